using System.Collections.Concurrent;
using Builder.Core.Graph;
using Builder.Core.Solver;

namespace Builder.Core.Tests.Solver;

/// <summary>
/// Workers for test graphs: <see cref="Run"/> vertices are cacheable (like RUN), <see cref="Local"/>
/// vertices are not (like the build context). Execution does whatever the test set for the vertex
/// name in <see cref="Behaviour"/>, and everything is counted.
/// </summary>
public sealed class FakeOps : IOpWorkers
{
    private readonly FakeWorker _cacheable;
    private readonly FakeWorker _local;

    public FakeOps()
    {
        _cacheable = new FakeWorker(this, cacheable: true);
        _local = new FakeWorker(this, cacheable: false);
    }

    /// <summary>Content of each local source, by name: it is what their keys are made of.</summary>
    public ConcurrentDictionary<string, string> LocalContent { get; } = new();

    /// <summary>What executing a vertex does before it returns, by vertex name.</summary>
    public ConcurrentDictionary<string, Func<CancellationToken, Task>> Behaviour { get; } = new();

    public ConcurrentDictionary<string, int> Executions { get; } = new();
    public ConcurrentDictionary<string, int> KeyComputations { get; } = new();
    public ConcurrentDictionary<string, Digest> Keys { get; } = new();

    /// <summary>Inputs each execution received, by vertex name.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<OpOutput>> InputsSeen { get; } = new();

    public int ExecutionsOf(string name) => Executions.GetValueOrDefault(name);

    public static Vertex Local(string name) => new(new LocalSourceOp(name, []), name);

    public static Vertex Run(string name, params Vertex[] inputs) =>
        new(new ExecOp(new ExecMeta([name], [], "/", "root", "default"), []), name, null, inputs);

    public IOpWorker For(Op op) => op is LocalSourceOp ? _local : _cacheable;

    private sealed class FakeWorker(FakeOps ops, bool cacheable) : IOpWorker
    {
        public bool Cacheable => cacheable;

        public Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
        {
            ops.KeyComputations.AddOrUpdate(vertex.Name, 1, (_, n) => n + 1);
            var key = vertex.Op is LocalSourceOp
                ? Digest.Sha256($"{vertex.Name}:{ops.LocalContent.GetValueOrDefault(vertex.Name, "")}")
                : CanonicalEncoding.VertexDigest(vertex.Op, inputs.Select(input => input.CacheKey));
            ops.Keys[vertex.Name] = key;
            return Task.FromResult(new OpKey(key));
        }

        public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
        {
            var count = ops.Executions.AddOrUpdate(vertex.Name, 1, (_, n) => n + 1);
            ops.InputsSeen[vertex.Name] = inputs;
            if (ops.Behaviour.TryGetValue(vertex.Name, out var behaviour)) await behaviour(ct);
            return cacheable ? new OpOutput($"snapshot-{vertex.Name}-{count}") : new OpOutput(null, $"/host/{vertex.Name}");
        }
    }
}

/// <summary>Cache records in a dictionary.</summary>
public sealed class InMemoryCacheRecords : ICacheRecords
{
    public ConcurrentDictionary<Digest, string> Records { get; } = new();

    public Task<string?> LookupAsync(Digest cacheKey, CancellationToken ct) =>
        Task.FromResult(Records.TryGetValue(cacheKey, out var snapshot) ? snapshot : null);

    public Task StoreAsync(Digest cacheKey, string snapshotId, CancellationToken ct)
    {
        Records[cacheKey] = snapshotId;
        return Task.CompletedTask;
    }
}
