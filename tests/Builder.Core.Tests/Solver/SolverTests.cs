using Builder.Core.Graph;
using Builder.Core.Solver;
using SolverUnderTest = Builder.Core.Solver.Solver;
using static Builder.Core.Tests.Solver.FakeOps;

namespace Builder.Core.Tests.Solver;

public sealed class SolverTests
{
    private readonly FakeOps _ops = new();
    private readonly InMemoryCacheRecords _cache = new();

    private SolverUnderTest NewSolver() => new(_ops, _cache);

    private static SolveSession Session(RecordingProgress progress, bool noCache = false) =>
        new(progress, new Dictionary<string, string>()) { NoCache = noCache };

    private static Task<OpOutput> SolveAsync(SolverUnderTest solver, Vertex root, RecordingProgress? progress = null, bool noCache = false, CancellationToken ct = default) =>
        solver.SolveAsync(new Definition(root), Session(progress ?? new RecordingProgress(), noCache), ct);

    /// <summary>context → compile → root, plus an unrelated branch.</summary>
    private static Vertex BuildGraph() =>
        Run("root", Run("compile", Local("context")), Run("download"));

    [Fact]
    public async Task Keys_are_stable_and_change_with_an_input()
    {
        _ops.LocalContent["context"] = "v1";
        await SolveAsync(NewSolver(), BuildGraph());
        var first = new Dictionary<string, Digest>(_ops.Keys);

        await SolveAsync(new SolverUnderTest(_ops, new InMemoryCacheRecords()), BuildGraph());
        Assert.Equal(first, new Dictionary<string, Digest>(_ops.Keys));

        _ops.LocalContent["context"] = "v2";
        await SolveAsync(NewSolver(), BuildGraph());
        Assert.NotEqual(first["context"], _ops.Keys["context"]);
        Assert.NotEqual(first["compile"], _ops.Keys["compile"]);
        Assert.NotEqual(first["root"], _ops.Keys["root"]);
        Assert.Equal(first["download"], _ops.Keys["download"]);
    }

    [Fact]
    public async Task A_cached_root_neither_executes_nor_materialises_its_inputs()
    {
        await SolveAsync(NewSolver(), BuildGraph());
        _ops.Executions.Clear();

        var progress = new RecordingProgress();
        var output = await SolveAsync(NewSolver(), BuildGraph(), progress);

        Assert.Equal("snapshot-root-1", output.SnapshotId);
        Assert.Empty(_ops.Executions);
        Assert.Equal(["Cached root"], progress.Summary());
    }

    [Fact]
    public async Task A_cached_input_is_used_without_running_what_is_below_it()
    {
        await SolveAsync(NewSolver(), Run("compile", Local("context")));
        _ops.Executions.Clear();

        await SolveAsync(NewSolver(), Run("test", Run("compile", Local("context"))));

        Assert.Equal(["test"], _ops.Executions.Keys);
        Assert.Equal("snapshot-compile-1", Assert.Single(_ops.InputsSeen["test"]).SnapshotId);
    }

    [Fact]
    public async Task No_cache_executes_everything_and_still_records_results()
    {
        await SolveAsync(NewSolver(), BuildGraph());

        var output = await SolveAsync(NewSolver(), BuildGraph(), noCache: true);

        Assert.Equal(["compile", "context", "download", "root"], _ops.Executions.Keys.Order(StringComparer.Ordinal));
        Assert.All(_ops.Executions.Values, count => Assert.Equal(2, count));
        Assert.Equal("snapshot-root-2", output.SnapshotId);
        Assert.Equal("snapshot-root-2", _cache.Records[_ops.Keys["root"]]);
    }

    [Fact]
    public async Task A_vertex_shared_by_a_diamond_is_keyed_and_run_once()
    {
        var shared = Local("context");
        var root = Run("root", Run("left", shared), Run("right", shared));
        var progress = new RecordingProgress();

        await SolveAsync(NewSolver(), root, progress);

        Assert.Equal(1, _ops.ExecutionsOf("context"));
        Assert.Equal(1, _ops.KeyComputations["context"]);
        Assert.Equal(["context", "left", "right", "root"], progress.NamesOf<VertexCompleted>());
        Assert.Equal(progress.NamesOf<VertexStarted>(), progress.NamesOf<VertexCompleted>());
    }

    [Fact]
    public async Task Two_concurrent_solves_of_one_definition_run_each_vertex_once()
    {
        var release = new TaskCompletionSource();
        _ops.Behaviour["root"] = _ => release.Task;
        var solver = NewSolver();
        var first = new RecordingProgress();
        var second = new RecordingProgress();

        var firstSolve = SolveAsync(solver, BuildGraph(), first);
        await first.WaitForAsync(e => e is VertexStarted { Vertex.Name: "root" });
        var secondSolve = SolveAsync(solver, BuildGraph(), second);
        // The second build has joined the run under way: it is told root started.
        await second.WaitForAsync(e => e is VertexStarted { Vertex.Name: "root" });
        release.SetResult();

        var outputs = await Task.WhenAll(firstSolve, secondSolve);
        Assert.Equal(outputs[0], outputs[1]);
        Assert.All(_ops.Executions.Values, count => Assert.Equal(1, count));
        Assert.Contains("Completed root", second.Summary());
    }

    [Fact]
    public async Task Independent_branches_run_in_parallel()
    {
        // Each branch waits until the other has started: only parallel execution finishes.
        var leftArrived = new TaskCompletionSource();
        var rightArrived = new TaskCompletionSource();
        _ops.Behaviour["left"] = async ct => { leftArrived.SetResult(); await rightArrived.Task.WaitAsync(TimeSpan.FromSeconds(30), ct); };
        _ops.Behaviour["right"] = async ct => { rightArrived.SetResult(); await leftArrived.Task.WaitAsync(TimeSpan.FromSeconds(30), ct); };

        await SolveAsync(NewSolver(), Run("root", Run("left"), Run("right")));

        Assert.Equal(1, _ops.ExecutionsOf("root"));
    }

    [Fact]
    public async Task A_failure_names_the_vertex_and_cancels_its_siblings()
    {
        var slowStarted = new TaskCompletionSource();
        var slowCancelled = false;
        _ops.Behaviour["slow"] = async ct =>
        {
            slowStarted.SetResult();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { slowCancelled = true; throw; }
        };
        _ops.Behaviour["broken"] = async _ =>
        {
            await slowStarted.Task;
            throw new InvalidOperationException("exit code 2");
        };
        var progress = new RecordingProgress();

        var failure = await Assert.ThrowsAsync<SolveException>(() =>
            SolveAsync(NewSolver(), Run("root", Run("slow"), Run("broken")), progress));

        Assert.Equal("broken", failure.Vertex.Name);
        Assert.Contains("broken", failure.Message);
        Assert.Contains("exit code 2", failure.Message);
        Assert.True(slowCancelled);
        Assert.Equal(0, _ops.ExecutionsOf("root"));
        Assert.Equal(["broken"], progress.NamesOf<VertexFailed>());
        Assert.DoesNotContain(_cache.Records.Values, snapshot => snapshot.Contains("root"));
    }

    [Fact]
    public async Task A_failed_key_computation_names_the_vertex()
    {
        var root = Run("root", new Vertex(new ImageSourceOp("docker.io/library/missing:latest", "linux/amd64"), "missing"));
        var solver = new SolverUnderTest(new FailingKeys("missing", _ops), _cache);

        var failure = await Assert.ThrowsAsync<SolveException>(() => SolveAsync(solver, root));

        Assert.Equal("missing", failure.Vertex.Name);
        Assert.Contains("failed to compute cache key", failure.Message);
        Assert.Empty(_ops.Executions);
    }

    [Fact]
    public async Task Cancelling_one_of_two_concurrent_solves_leaves_the_other_succeeding()
    {
        var release = new TaskCompletionSource();
        var rootToken = CancellationToken.None;
        _ops.Behaviour["root"] = async ct => { rootToken = ct; await release.Task; };
        var solver = NewSolver();
        var first = new RecordingProgress();
        var second = new RecordingProgress();
        using var cancelFirst = new CancellationTokenSource();

        var firstSolve = SolveAsync(solver, BuildGraph(), first, ct: cancelFirst.Token);
        await first.WaitForAsync(e => e is VertexStarted { Vertex.Name: "root" });
        var secondSolve = SolveAsync(solver, BuildGraph(), second);
        await second.WaitForAsync(e => e is VertexStarted { Vertex.Name: "root" });

        await cancelFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstSolve);
        Assert.False(rootToken.IsCancellationRequested);
        release.SetResult();

        Assert.Equal("snapshot-root-1", (await secondSolve).SnapshotId);
        Assert.Equal(1, _ops.ExecutionsOf("root"));
    }

    [Fact]
    public async Task Cancelling_the_only_solve_cancels_the_running_op()
    {
        var started = new TaskCompletionSource();
        var opCancelled = false;
        _ops.Behaviour["root"] = async ct =>
        {
            started.SetResult();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { opCancelled = true; throw; }
        };
        using var cancel = new CancellationTokenSource();

        var solve = SolveAsync(NewSolver(), BuildGraph(), ct: cancel.Token);
        await started.Task;
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => solve);
        // The solve returns only once the abandoned op has stopped.
        Assert.True(opCancelled);
    }

    [Fact]
    public async Task A_non_cacheable_source_reports_started_and_completed()
    {
        var progress = new RecordingProgress();

        var output = await SolveAsync(NewSolver(), Local("context"), progress);

        Assert.Equal("/host/context", output.HostDirectory);
        Assert.Equal(["Started context", "Completed context"], progress.Summary());
        Assert.Empty(_cache.Records);
    }

    [Fact]
    public async Task An_empty_definition_is_an_empty_filesystem()
    {
        var output = await NewSolver().SolveAsync(new Definition(null), Session(new RecordingProgress()), CancellationToken.None);

        Assert.Equal(OpOutput.Empty, output);
    }

    /// <summary>Workers whose key computation fails for one vertex (an image that cannot be resolved).</summary>
    private sealed class FailingKeys(string failing, FakeOps inner) : IOpWorkers, IOpWorker
    {
        public IOpWorker For(Op op) => op is ImageSourceOp ? this : inner.For(op);

        public bool Cacheable => true;

        public Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct) =>
            throw new InvalidOperationException($"{failing}: not found");

        public Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct) =>
            throw new InvalidOperationException("never runs");
    }
}
