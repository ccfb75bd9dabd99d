using System.Diagnostics;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Export;

/// <summary>
/// Snapshots as plain directories: each holds its own files; a view is a copy of the chain's
/// directories laid over each other (no whiteouts). Enough for exporters, which only diff and view.
/// </summary>
public sealed class FakeSnapshotter(string workDir) : ISnapshotter
{
    private readonly Dictionary<string, SnapshotInfo> _snapshots = [];

    public SnapshotInfo Add(string id, string? parentId, Action<string> populate)
    {
        var dir = Path.Combine(workDir, "diffs", id);
        Directory.CreateDirectory(dir);
        populate(dir);
        var info = new SnapshotInfo(id, parentId, dir, DateTimeOffset.UnixEpoch);
        _snapshots[id] = info;
        return info;
    }

    public Task<IReadOnlyList<SnapshotInfo>> ChainAsync(string snapshotId, CancellationToken ct)
    {
        var chain = new List<SnapshotInfo>();
        for (string? id = snapshotId; id is not null; id = _snapshots[id].ParentId) chain.Insert(0, _snapshots[id]);
        return Task.FromResult<IReadOnlyList<SnapshotInfo>>(chain);
    }

    public async Task<IMountedView> ViewAsync(string snapshotId, CancellationToken ct)
    {
        var view = Path.Combine(workDir, "views", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(view);
        foreach (var snapshot in await ChainAsync(snapshotId, ct))
            await CopyPreservingAsync(snapshot.DiffDir, view);
        return new View(view);
    }

    public Task<SnapshotInfo?> StatAsync(string snapshotId, CancellationToken ct) =>
        Task.FromResult(_snapshots.GetValueOrDefault(snapshotId));

    public Task<IActiveSnapshot> PrepareAsync(string? parentId, CancellationToken ct) => throw new NotSupportedException();
    public Task<SnapshotInfo> ApplyLayerAsync(string chainId, string? parentId, Func<CancellationToken, Task<Stream>> openLayer, CancellationToken ct) => throw new NotSupportedException();
    public Task RemoveAsync(string snapshotId, CancellationToken ct) => throw new NotSupportedException();
    public Task CleanupAsync(CancellationToken ct) => Task.CompletedTask;

    private static async Task CopyPreservingAsync(string from, string to)
    {
        using var cp = Process.Start("cp", ["-a", from + "/.", to + "/"]);
        await cp.WaitForExitAsync();
        if (cp.ExitCode != 0) throw new IOException($"cp -a {from} {to} failed");
    }

    private sealed class View(string path) : IMountedView
    {
        public string MountPath => path;

        public ValueTask DisposeAsync()
        {
            Directory.Delete(path, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
