using System.Collections.Concurrent;
using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>
/// The scheduler, in the manner of BuildKit's. A solve has two phases:
/// <list type="number">
/// <item>Keys: every vertex's cache key, bottom-up (<see cref="CacheKeyComputation"/>).</item>
/// <item>Results, lazily from the root down: a vertex whose key has a cache record is used as
/// is — its inputs are never materialised (a cached RUN never needs its base image pulled);
/// otherwise its inputs are materialised concurrently, the op runs and its result is recorded.</item>
/// </list>
/// Runs are shared by cache key across all solves of this instance (<see cref="SharedExecution"/>),
/// which also defines what cancellation does.
/// </summary>
public sealed class Solver : ISolver
{
    private readonly IOpWorkers _workers;
    private readonly ICacheRecords _cache;
    private readonly TimeProvider _time;

    /// <summary>Runs under way, by cache key; a run removes itself when it ends.</summary>
    private readonly ConcurrentDictionary<Digest, SharedExecution> _inFlight = new();

    public Solver(IOpWorkers workers, ICacheRecords cache, TimeProvider? time = null)
    {
        _workers = workers;
        _cache = cache;
        _time = time ?? TimeProvider.System;
    }

    public async Task<OpOutput> SolveAsync(Definition definition, SolveSession session, CancellationToken ct)
    {
        if (definition.Root is not { } root) return OpOutput.Empty;
        var keys = await CacheKeyComputation.ComputeAllAsync(root, _workers, session, _time, ct).ConfigureAwait(false);
        var solve = new SolveRun(session, keys);
        var output = await MaterialiseAsync(solve, root, ct).ConfigureAwait(false);
        if (session.CollectCachedRecords) await CollectCachedAsync(solve, root, ct).ConfigureAwait(false);
        return output;
    }

    /// <summary>
    /// Adds to <see cref="SolveSession.Solved"/> the vertices a hit made unnecessary whose results the
    /// local records still hold (found without materialising anything), so a cache export of a fully
    /// cached rebuild still holds every step.
    /// </summary>
    private async Task CollectCachedAsync(SolveRun solve, Vertex root, CancellationToken ct)
    {
        var seen = new HashSet<Digest>();
        var pending = new Stack<Vertex>([root]);
        while (pending.TryPop(out var vertex))
        {
            if (!seen.Add(vertex.Digest)) continue;
            foreach (var input in vertex.Inputs) pending.Push(input);
            var key = solve.KeyOf(vertex);
            var worker = _workers.For(vertex.Op);
            if (!worker.Cacheable || solve.Session.Solved.ContainsKey(key)) continue;
            if (await _cache.LookupAsync(key, ct).ConfigureAwait(false) is { } snapshotId)
                Remember(solve, vertex, worker, new OpOutput(snapshotId));
        }
    }

    private async Task<OpOutput> MaterialiseAsync(SolveRun solve, Vertex vertex, CancellationToken ct)
    {
        var key = solve.KeyOf(vertex);
        if (solve.Results.TryGetValue(key, out var known)) return known;

        var worker = _workers.For(vertex.Op);
        if (worker.Cacheable && !solve.Session.NoCache
            && await LookupAsync(solve, key, ct).ConfigureAwait(false) is { } snapshotId)
        {
            var cached = new OpOutput(snapshotId);
            solve.Results.TryAdd(key, cached);
            Remember(solve, vertex, worker, cached);
            solve.ReportCachedOnce(vertex, _time.GetUtcNow());
            return cached;
        }

        var execution = JoinOrStart(solve, vertex, key, worker);
        var output = await execution.WaitAsync(solve, ct).ConfigureAwait(false);
        solve.Results.TryAdd(key, output);
        Remember(solve, vertex, worker, output);
        return output;
    }

    /// <summary>The local record of <paramref name="key"/>, else the imported cache's (then recorded locally).</summary>
    private async Task<string?> LookupAsync(SolveRun solve, Digest key, CancellationToken ct)
    {
        if (await _cache.LookupAsync(key, ct).ConfigureAwait(false) is { } local) return local;
        if (solve.Session.ImportedCache is not { } imported) return null;
        if (await imported.MaterialiseAsync(key, ct).ConfigureAwait(false) is not { } snapshotId) return null;
        await _cache.StoreAsync(key, snapshotId, ct).ConfigureAwait(false);
        return snapshotId;
    }

    /// <summary>Notes a cacheable result in the session, for cache export.</summary>
    private static void Remember(SolveRun solve, Vertex vertex, IOpWorker worker, OpOutput output)
    {
        if (!worker.Cacheable || output.SnapshotId is not { } snapshotId) return;
        var key = solve.KeyOf(vertex);
        solve.Session.Solved.TryAdd(key, new SolvedRecord(key, [.. vertex.Inputs.Select(solve.KeyOf)], snapshotId, vertex.Name));
    }

    /// <summary>The run of <paramref name="key"/> already under way, or a new one.</summary>
    private SharedExecution JoinOrStart(SolveRun solve, Vertex vertex, Digest key, IOpWorker worker)
    {
        while (true)
        {
            var candidate = new SharedExecution(vertex, key, solve);
            var execution = _inFlight.GetOrAdd(key, candidate);
            if (execution.TryJoin(solve))
            {
                if (ReferenceEquals(execution, candidate))
                    execution.Start((run, token) => RunAsync(run, worker, token), run => _inFlight.TryRemove(new(run.Key, run)));
                return execution;
            }
            // Abandoned and about to stop: make way for a fresh run.
            _inFlight.TryRemove(new(key, execution));
        }
    }

    /// <summary>The body of a shared run: inputs, the op, the cache record, progress.</summary>
    private async Task<OpOutput> RunAsync(SharedExecution run, IOpWorker worker, CancellationToken ct)
    {
        var vertex = run.Vertex;
        var inputs = await MaterialiseInputsAsync(run.Starter, vertex, ct).ConfigureAwait(false);

        var started = _time.GetTimestamp();
        run.ReportStarted(_time.GetUtcNow());
        try
        {
            var output = await worker.ExecuteAsync(vertex, inputs, run.Starter.Session, ct).ConfigureAwait(false);
            if (worker.Cacheable && output.SnapshotId is { } snapshotId)
                await _cache.StoreAsync(run.Key, snapshotId, ct).ConfigureAwait(false);
            run.ReportCompleted(output, _time.GetUtcNow(), _time.GetElapsedTime(started));
            return output;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            run.ReportFailed(_time.GetUtcNow(), e.Message);
            throw new SolveException(vertex, $"{vertex.Name}: {e.Message}", e);
        }
    }

    /// <summary>All inputs of <paramref name="vertex"/> at once; the first failure cancels the rest.</summary>
    private async Task<IReadOnlyList<OpOutput>> MaterialiseInputsAsync(SolveRun solve, Vertex vertex, CancellationToken ct)
    {
        if (vertex.Inputs.IsEmpty) return [];
        using var siblings = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var inputs = vertex.Inputs.Select(input => MaterialiseAsync(solve, input, siblings.Token)).ToList();
        return await FailFast.WhenAllAsync(inputs, siblings).ConfigureAwait(false);
    }
}
