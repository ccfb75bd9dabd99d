using Builder.Core.Context;
using Builder.Core.Graph;
using Builder.Core.Ops.Files;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>
/// COPY, ADD, WORKDIR's mkdir and friends: the actions run in order on a writable snapshot over
/// the base input, reading sources from other inputs (the context in place, stages as read-only views).
/// </summary>
public sealed class FileWorker(ISnapshotter snapshotter) : IOpWorker
{
    public bool Cacheable => true;

    /// <summary>
    /// The key covers the base's key and, for each copy, a checksum of exactly the source paths it
    /// reads when the source can say (the build context), else the source's key. So a change to one
    /// context file invalidates only the COPYs that read it.
    /// </summary>
    public async Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (FileOp)vertex.Op;
        var parts = new List<string> { op.BaseInput >= 0 ? inputs[op.BaseInput].CacheKey.ToString() : "scratch" };
        foreach (var action in op.Actions)
        {
            if (action is not CopyAction copy) continue;
            var source = inputs[copy.SourceInput];
            parts.Add(source.Content is { } content
                ? $"{copy.SourceInput}:{await content.ChecksumAsync(copy.Source, copy.Options.AllowWildcard, ct).ConfigureAwait(false)}"
                : $"{copy.SourceInput}:{source.CacheKey}");
        }
        return new OpKey(CacheKey.Of(op, parts));
    }

    public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (FileOp)vertex.Op;
        var parent = op.BaseInput >= 0 ? inputs[op.BaseInput].SnapshotId : null;
        await using var target = await snapshotter.PrepareAsync(parent, ct).ConfigureAwait(false);
        var views = new List<IMountedView>();
        try
        {
            var sourceRoots = new Dictionary<int, CopySourceRoot>();
            foreach (var index in op.Actions.OfType<CopyAction>().Select(c => c.SourceInput).Distinct())
                sourceRoots[index] = new CopySourceRoot(await SourceRootAsync(inputs[index], views, ct).ConfigureAwait(false), FilterOf(vertex.Inputs[index]));

            var runner = new FileActionRunner(target.MountPath);
            foreach (var action in op.Actions)
                await runner.ApplyAsync(action, i => sourceRoots[i], ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var view in views) await view.DisposeAsync().ConfigureAwait(false);
        }
        var committed = await target.CommitAsync(ct).ConfigureAwait(false);
        return new OpOutput(committed.Id);
    }

    /// <summary>A local source (the context) read in place hides what its .dockerignore patterns exclude.</summary>
    private static IPathFilter FilterOf(Vertex input) =>
        input.Op is LocalSourceOp { Excludes: { IsDefaultOrEmpty: false } excludes }
            ? IgnorePatterns.Parse(string.Join('\n', excludes))
            : IncludeEverything.Instance;

    private async Task<string> SourceRootAsync(OpOutput input, List<IMountedView> views, CancellationToken ct)
    {
        if (input.HostDirectory is { } dir) return dir;
        if (input.SnapshotId is null) return EmptyDirectory.Path;
        var view = await snapshotter.ViewAsync(input.SnapshotId, ct).ConfigureAwait(false);
        views.Add(view);
        return view.MountPath;
    }

    /// <summary>The source root of an empty input (a stage that is still FROM scratch): nothing to find in it.</summary>
    private static class EmptyDirectory
    {
        public static string Path { get; } = System.IO.Directory.CreateTempSubdirectory("builder-empty-").FullName;
    }
}
