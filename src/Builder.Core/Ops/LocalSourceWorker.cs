using Builder.Core.Context;
using Builder.Core.Graph;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>
/// A directory of the client (the build context). Not cached as a result: its key is its
/// content, and its result is the directory itself, read in place by the ops that copy from it.
/// </summary>
public sealed class LocalSourceWorker(Func<IReadOnlyList<string>, IPathFilter> filterFromPatterns, Func<string, IPathFilter, IContentChecksum> checksummerFor) : IOpWorker
{
    public bool Cacheable => false;

    public async Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (LocalSourceOp)vertex.Op;
        var directory = DirectoryOf(op, session);
        var checksummer = (IContentChecksum)session.Items.GetOrAdd($"local:{op.Name}|{string.Join('\n', op.Excludes)}",
            _ => checksummerFor(directory, filterFromPatterns(op.Excludes)));
        var root = await checksummer.ChecksumAsync(".", allowWildcard: false, ct).ConfigureAwait(false);
        return new OpKey(CacheKey.Of(vertex.Op, [root.ToString()]), checksummer);
    }

    public Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct) =>
        Task.FromResult(new OpOutput(SnapshotId: null, HostDirectory: DirectoryOf((LocalSourceOp)vertex.Op, session)));

    private static string DirectoryOf(LocalSourceOp op, SolveSession session) =>
        session.LocalDirectories.TryGetValue(op.Name, out var dir)
            ? dir
            : throw new InvalidOperationException($"no local directory named \"{op.Name}\" was given to this build");
}
