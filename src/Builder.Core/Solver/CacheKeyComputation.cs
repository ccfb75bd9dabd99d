using System.Collections.Concurrent;
using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>
/// Phase 1 of a solve: the cache key of every vertex, bottom-up. A vertex's key depends only on
/// its op and its inputs' keys, so it is computed once per solve even when several vertices
/// read it (memoised by vertex digest), and the inputs of one vertex are keyed concurrently.
/// </summary>
internal sealed class CacheKeyComputation
{
    private readonly IOpWorkers _workers;
    private readonly SolveSession _session;
    private readonly CancellationTokenSource _failFast;
    private readonly ConcurrentDictionary<Digest, Lazy<Task<OpKey>>> _keys = new();

    private CacheKeyComputation(IOpWorkers workers, SolveSession session, CancellationTokenSource failFast)
    {
        _workers = workers;
        _session = session;
        _failFast = failFast;
    }

    /// <summary>The key of every vertex reachable from <paramref name="root"/>, by vertex digest.</summary>
    public static async Task<IReadOnlyDictionary<Digest, OpKey>> ComputeAllAsync(
        Vertex root, IOpWorkers workers, SolveSession session, TimeProvider time, CancellationToken ct)
    {
        // One failed key fails the whole solve, so every other key computation can stop.
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var computation = new CacheKeyComputation(workers, session, failFast);
        try
        {
            await computation.KeyOfAsync(root).ConfigureAwait(false);
        }
        catch (SolveException failure)
        {
            session.Progress.Report(new VertexFailed(failure.Vertex, time.GetUtcNow(), failure.Message));
            throw;
        }
        return computation._keys.ToDictionary(entry => entry.Key, entry => entry.Value.Value.Result);
    }

    private Task<OpKey> KeyOfAsync(Vertex vertex) =>
        _keys.GetOrAdd(vertex.Digest, _ => new Lazy<Task<OpKey>>(() => ComputeAsync(vertex))).Value;

    private async Task<OpKey> ComputeAsync(Vertex vertex)
    {
        var ct = _failFast.Token;
        var inputKeys = await FailFast.WhenAllAsync([.. vertex.Inputs.Select(KeyOfAsync)], _failFast).ConfigureAwait(false);
        OpKey key;
        try
        {
            key = await _workers.For(vertex.Op).ComputeKeyAsync(vertex, inputKeys, _session, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new SolveException(vertex, $"{vertex.Name}: failed to compute cache key: {e.Message}", e);
        }
        // A vertex waiting on an execution with its own key would wait on itself forever.
        if (inputKeys.Any(input => input.CacheKey == key.CacheKey))
            throw new SolveException(vertex, $"{vertex.Name}: cache key equals one of its inputs' keys ({key.CacheKey})");
        return key;
    }
}
