using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>
/// Evaluates a build graph: computes every vertex's cache key from its op and its inputs' keys,
/// reuses cached results, runs what is missing (independent vertices in parallel, identical
/// ones once) and reports progress. It knows vertices and results, not what an op does:
/// that is the <see cref="IOpWorker"/>'s job.
/// </summary>
public interface ISolver
{
    /// <summary>
    /// Returns the result of <paramref name="definition"/>'s root. Throws <see cref="SolveException"/>
    /// naming the failed vertex when an op fails; cancellation stops running ops.
    /// </summary>
    Task<OpOutput> SolveAsync(Definition definition, SolveSession session, CancellationToken ct);
}

/// <summary>
/// What a vertex produced: a committed snapshot, a directory on the host (local sources),
/// or nothing (an empty filesystem).
/// </summary>
public sealed record OpOutput(string? SnapshotId, string? HostDirectory = null)
{
    public static OpOutput Empty { get; } = new(SnapshotId: null);
}

/// <summary>
/// A vertex's cache key and, for sources whose files later ops read selectively (the build
/// context), a way to checksum parts of its content so a COPY is keyed by what it copies only.
/// </summary>
public sealed record OpKey(Digest CacheKey, IContentChecksum? Content = null);

/// <summary>Content checksums of paths inside a source, without materialising it.</summary>
public interface IContentChecksum
{
    /// <summary>
    /// A digest of everything at <paramref name="path"/> (a file, or a directory recursively:
    /// names, types, modes, owners, link targets and file bytes — never mtimes).
    /// With <paramref name="allowWildcard"/>, <paramref name="path"/> may be a pattern and the
    /// digest covers every match.
    /// </summary>
    Task<Digest> ChecksumAsync(string path, bool allowWildcard, CancellationToken ct);
}

/// <summary>Does the work of one kind of op. One instance serves many builds concurrently.</summary>
public interface IOpWorker
{
    /// <summary>False for ops whose key already is their content (local sources): nothing to store.</summary>
    bool Cacheable { get; }

    /// <summary>
    /// The cache key of <paramref name="vertex"/> given its inputs' keys: a digest of the op's
    /// definition and of exactly the content it reads. May do cheap I/O (resolve a tag, checksum
    /// context files) but never runs the op.
    /// </summary>
    Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct);

    /// <summary>Runs the op over its inputs' results and returns its own result.</summary>
    Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct);
}

/// <summary>Picks the worker for an op kind.</summary>
public interface IOpWorkers
{
    IOpWorker For(Op op);
}

/// <summary>Persistent map from cache keys to results. Lookups only return results that still exist.</summary>
public interface ICacheRecords
{
    Task<string?> LookupAsync(Digest cacheKey, CancellationToken ct);
    Task StoreAsync(Digest cacheKey, string snapshotId, CancellationToken ct);
}

/// <summary>An op failed; names the vertex (and its Dockerfile line) for the user.</summary>
public sealed class SolveException(Vertex vertex, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public Vertex Vertex { get; } = vertex;
}
