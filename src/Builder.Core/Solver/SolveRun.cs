using System.Collections.Concurrent;
using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>
/// The state of one <see cref="ISolver.SolveAsync"/> call: its session, the keys phase 1
/// computed, and the results it already holds (so a vertex read twice in one build, even a
/// non-cacheable one, runs once).
/// </summary>
internal sealed class SolveRun(SolveSession session, IReadOnlyDictionary<Digest, OpKey> keys)
{
    private readonly ConcurrentDictionary<Digest, bool> _reportedCached = new();

    public SolveSession Session { get; } = session;

    /// <summary>Results this solve can use, by cache key.</summary>
    public ConcurrentDictionary<Digest, OpOutput> Results { get; } = new();

    public Digest KeyOf(Vertex vertex) => keys[vertex.Digest].CacheKey;

    public void Report(ProgressEvent progress) => Session.Progress.Report(progress);

    /// <summary>Two readers of one cached vertex may look it up at once; the user sees it once.</summary>
    public void ReportCachedOnce(Vertex vertex, DateTimeOffset now)
    {
        if (_reportedCached.TryAdd(KeyOf(vertex), true)) Report(new VertexCached(vertex, now));
    }
}
