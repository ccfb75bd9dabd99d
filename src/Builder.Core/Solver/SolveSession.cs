using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>The per-build side of a solve: options, the client's directories, and where progress goes.</summary>
public sealed class SolveSession
{
    public SolveSession(IProgressSink progress, IReadOnlyDictionary<string, string> localDirectories)
    {
        Progress = progress;
        LocalDirectories = localDirectories;
    }

    public IProgressSink Progress { get; }

    /// <summary>Named local sources of this build (<c>context</c>, named build contexts) → host directory.</summary>
    public IReadOnlyDictionary<string, string> LocalDirectories { get; }

    /// <summary>--no-cache: run every op even when a cached result exists (results are still stored).</summary>
    public bool NoCache { get; init; }

    /// <summary>SOURCE_DATE_EPOCH, when set: timestamps in produced layers and config.</summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>Build secrets the client offers (RUN --mount=type=secret); fetched only by the steps that mount them.</summary>
    public ISecretProvider Secrets { get; init; } = SecretSources.None;

    /// <summary>SSH agent sockets the client forwards (RUN --mount=type=ssh): id → socket path on this host.</summary>
    public IReadOnlyDictionary<string, string> SshAgents { get; init; } = new Dictionary<string, string>();

    /// <summary>Entitlements granted to this build (<c>--allow</c>), e.g. <see cref="Solver.Entitlements.SecurityInsecure"/>.</summary>
    public IReadOnlySet<string> Entitlements { get; init; } = new HashSet<string>();

    /// <summary>
    /// Cache records imported for this build (<c>--cache-from</c>): consulted when the local records
    /// miss; a hit materialises the record's result (fetching its layers only then). Null: none.
    /// </summary>
    public ICacheSource? ImportedCache { get; init; }

    /// <summary>
    /// Every cacheable vertex of this solve that produced (or reused) a snapshot, by cache key: what a
    /// cache export (<c>--cache-to</c>) writes. Vertices a cache hit made unnecessary are not here.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<Digest, SolvedRecord> Solved { get; } = new();

    /// <summary>
    /// Also put in <see cref="Solved"/>, after the solve, every vertex a cache hit made unnecessary whose
    /// result the local records hold (for cache export; costs one record lookup per such vertex).
    /// </summary>
    public bool CollectCachedRecords { get; init; }

    /// <summary>Per-session values ops want to remember across vertices of one build (e.g. context checksummers).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, object> Items { get; } = new();
}

/// <summary>Receives progress of a solve; must be thread-safe (vertices run in parallel).</summary>
public interface IProgressSink
{
    void Report(ProgressEvent progress);
}

public abstract record ProgressEvent(Vertex Vertex, DateTimeOffset Time);

public sealed record VertexStarted(Vertex Vertex, DateTimeOffset Time) : ProgressEvent(Vertex, Time);

public sealed record VertexCached(Vertex Vertex, DateTimeOffset Time) : ProgressEvent(Vertex, Time);

/// <param name="Stream">1 = stdout, 2 = stderr.</param>
public sealed record VertexLog(Vertex Vertex, DateTimeOffset Time, int Stream, ReadOnlyMemory<byte> Data) : ProgressEvent(Vertex, Time);

public sealed record VertexCompleted(Vertex Vertex, DateTimeOffset Time, TimeSpan Duration) : ProgressEvent(Vertex, Time);

public sealed record VertexFailed(Vertex Vertex, DateTimeOffset Time, string Error) : ProgressEvent(Vertex, Time);

/// <summary>A cache key this solve resolved to a snapshot, with the keys of the inputs it was derived from.</summary>
public sealed record SolvedRecord(Digest Key, IReadOnlyList<Digest> Inputs, string SnapshotId, string VertexName);

/// <summary>Cache records from elsewhere (an imported cache), looked up after the local records miss.</summary>
public interface ICacheSource
{
    /// <summary>
    /// The snapshot holding the result of <paramref name="cacheKey"/>, materialised from this source
    /// (its layers fetched and unpacked only now), or null when the source has no such record or it
    /// cannot be used (a failure here is a miss, never a build failure).
    /// </summary>
    Task<string?> MaterialiseAsync(Digest cacheKey, CancellationToken ct);
}
