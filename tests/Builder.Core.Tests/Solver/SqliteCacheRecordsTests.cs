using Builder.Core.Graph;
using Builder.Core.Solver;
using Builder.Core.State;
using Builder.Core.Tests.Context;
using SolverUnderTest = Builder.Core.Solver.Solver;
using static Builder.Core.Tests.Solver.FakeOps;

namespace Builder.Core.Tests.Solver;

public sealed class SqliteCacheRecordsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly StateRoot _state;
    private readonly HashSet<string> _existingSnapshots = [];

    public SqliteCacheRecordsTests()
    {
        _state = new StateRoot(_dir.Path);
        _state.EnsureCreated();
    }

    public void Dispose() => _dir.Dispose();

    private SqliteCacheRecords NewRecords() =>
        new(_state, (snapshot, _) => Task.FromResult(_existingSnapshots.Contains(snapshot)));

    private static readonly Digest Key = Digest.Sha256("some op");

    [Fact]
    public async Task A_stored_record_is_found_again_by_a_new_instance()
    {
        _existingSnapshots.Add("snap-1");
        await NewRecords().StoreAsync(Key, "snap-1", CancellationToken.None);

        Assert.Equal("snap-1", await NewRecords().LookupAsync(Key, CancellationToken.None));
        Assert.Null(await NewRecords().LookupAsync(Digest.Sha256("other op"), CancellationToken.None));
    }

    [Fact]
    public async Task A_dangling_record_is_a_miss_and_is_deleted()
    {
        var records = NewRecords();
        await records.StoreAsync(Key, "pruned", CancellationToken.None);

        Assert.Null(await records.LookupAsync(Key, CancellationToken.None));

        // Even once a snapshot of that name exists again, the deleted record stays gone.
        _existingSnapshots.Add("pruned");
        Assert.Null(await records.LookupAsync(Key, CancellationToken.None));
    }

    [Fact]
    public async Task A_dangling_record_makes_the_solver_run_the_op_again()
    {
        var ops = new FakeOps();
        var records = NewRecords();
        var solver = new SolverUnderTest(ops, records);
        var session = new SolveSession(new RecordingProgress(), new Dictionary<string, string>());
        var definition = new Definition(Run("root", Local("context")));

        await solver.SolveAsync(definition, session, CancellationToken.None);   // stored, but the snapshot "was pruned"
        var output = await solver.SolveAsync(definition, session, CancellationToken.None);

        Assert.Equal(2, ops.ExecutionsOf("root"));
        Assert.Equal("snapshot-root-2", output.SnapshotId);
        _existingSnapshots.Add("snapshot-root-2");
        Assert.Equal("snapshot-root-2", await records.LookupAsync(ops.Keys["root"], CancellationToken.None));
    }
}
