using System.Collections.Concurrent;
using System.Security.Cryptography;
using Builder.Core.Filesystem;
using Builder.Core.State;

namespace Builder.Core.Snapshots;

/// <summary>
/// <see cref="ISnapshotter"/> on overlayfs. Each snapshot owns <c>SnapshotsDir/&lt;id&gt;/</c>:
/// <c>fs</c> (its changes: the overlay upper dir, later a lower dir of its children),
/// <c>work</c> (overlay's scratch dir) and <c>mnt</c> (where an active snapshot is mounted).
/// Read-only views are mounted under <c>SnapshotsDir/views/</c>.
/// <para>
/// A snapshot is recorded as active in the database before its directory exists, and marked
/// committed in one statement after it is complete, so after a crash <see cref="CleanupAsync"/>
/// can tell finished snapshots from leftovers. Safe to use from many builds at once.
/// </para>
/// </summary>
public sealed class OverlaySnapshotter : ISnapshotter
{
    private const string ViewsDirName = "views";
    private const string EmptyDirName = "empty";

    private readonly StateRoot _root;
    private readonly SnapshotMetadata _metadata;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _chainLocks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _viewCounts = new(StringComparer.Ordinal);

    private OverlaySnapshotter(StateRoot root)
    {
        _root = root;
        _metadata = new SnapshotMetadata(root);
    }

    /// <summary>Opens (creating when needed) the snapshot store of <paramref name="root"/>.</summary>
    public static async Task<OverlaySnapshotter> OpenAsync(StateRoot root, CancellationToken ct)
    {
        root.EnsureCreated();
        var snapshotter = new OverlaySnapshotter(root);
        Directory.CreateDirectory(snapshotter.ViewsDir);
        Directory.CreateDirectory(snapshotter.EmptyDir);
        await snapshotter._metadata.EnsureSchemaAsync(ct).ConfigureAwait(false);
        return snapshotter;
    }

    private string ViewsDir => Path.Join(_root.SnapshotsDir, ViewsDirName);

    // The lower dir of a snapshot without parent: overlay needs at least one.
    private string EmptyDir => Path.Join(_root.SnapshotsDir, EmptyDirName);

    private string DirectoryOf(string id) => Path.Join(_root.SnapshotsDir, id);
    private string FsDirOf(string id) => Path.Join(DirectoryOf(id), "fs");
    private string WorkDirOf(string id) => Path.Join(DirectoryOf(id), "work");
    private string MountDirOf(string id) => Path.Join(DirectoryOf(id), "mnt");

    public async Task<IActiveSnapshot> PrepareAsync(string? parentId, CancellationToken ct)
    {
        var id = NewId();
        await _metadata.InsertActiveAsync(id, parentId, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        try
        {
            var lowerDirs = parentId is null ? [EmptyDir] : await LowerDirsOfAsync(parentId, ct).ConfigureAwait(false);
            Directory.CreateDirectory(FsDirOf(id));
            Directory.CreateDirectory(WorkDirOf(id));
            Directory.CreateDirectory(MountDirOf(id));
            OverlayMounts.Mount(MountDirOf(id), lowerDirs, FsDirOf(id), WorkDirOf(id));
        }
        catch
        {
            await DiscardAsync(id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new ActiveSnapshot(this, id, MountDirOf(id));
    }

    public async Task<IMountedView> ViewAsync(string snapshotId, CancellationToken ct)
    {
        await RequireCommittedAsync(snapshotId, ct).ConfigureAwait(false);
        var lowerDirs = await LowerDirsOfAsync(snapshotId, ct).ConfigureAwait(false);
        // Always over the empty dir: overlay then hides whiteouts even in a base layer, and a
        // lower-only overlay wants two lower dirs on older kernels.
        lowerDirs.Add(EmptyDir);

        var mountPath = Path.Join(ViewsDir, NewId());
        _viewCounts.AddOrUpdate(snapshotId, 1, (_, count) => count + 1);
        try
        {
            Directory.CreateDirectory(mountPath);
            OverlayMounts.Mount(mountPath, lowerDirs, upperDir: null, workDir: null);
        }
        catch
        {
            RemoveViewMount(snapshotId, mountPath);
            throw;
        }
        return new MountedView(this, snapshotId, mountPath);
    }

    public async Task<SnapshotInfo> ApplyLayerAsync(string chainId, string? parentId, Func<CancellationToken, Task<Stream>> openLayer, CancellationToken ct)
    {
        // One unpack per chain id: a second caller waits here and then finds the first one's result.
        var chainLock = _chainLocks.GetOrAdd(chainId, _ => new SemaphoreSlim(1, 1));
        await chainLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (await _metadata.FindByChainAsync(chainId, ct).ConfigureAwait(false) is { } existing)
            {
                if (existing.ParentId != parentId)
                    throw new InvalidOperationException($"chain {chainId} is already unpacked over parent {existing.ParentId ?? "(none)"}, not {parentId ?? "(none)"}");
                return InfoOf(existing);
            }
            return await UnpackAsync(chainId, parentId, openLayer, ct).ConfigureAwait(false);
        }
        finally
        {
            chainLock.Release();
        }
    }

    private async Task<SnapshotInfo> UnpackAsync(string chainId, string? parentId, Func<CancellationToken, Task<Stream>> openLayer, CancellationToken ct)
    {
        var id = NewId();
        await _metadata.InsertActiveAsync(id, parentId, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        try
        {
            // Unpacked straight into the future upper dir: whiteouts and opaque xattrs can only be
            // written there, not through a mount.
            Directory.CreateDirectory(FsDirOf(id));
            await using (var layer = await openLayer(ct).ConfigureAwait(false))
                await new LayerApplier(FsDirOf(id)).ApplyAsync(layer, ct).ConfigureAwait(false);
            await _metadata.MarkCommittedAsync(id, chainId, ct).ConfigureAwait(false);
        }
        catch
        {
            await DiscardAsync(id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return await StatAsync(id, ct).ConfigureAwait(false) ?? throw new InvalidOperationException($"snapshot {id} vanished");
    }

    public async Task<SnapshotInfo?> StatAsync(string snapshotId, CancellationToken ct) =>
        await _metadata.GetAsync(snapshotId, ct).ConfigureAwait(false) is { } record ? InfoOf(record) : null;

    public async Task<IReadOnlyList<SnapshotInfo>> ChainAsync(string snapshotId, CancellationToken ct) =>
        (await _metadata.ChainAsync(snapshotId, ct).ConfigureAwait(false)).Select(InfoOf).ToList();

    public async Task RemoveAsync(string snapshotId, CancellationToken ct)
    {
        var record = await _metadata.GetAsync(snapshotId, ct).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"snapshot {snapshotId} does not exist");
        if (record.Kind != SnapshotKind.Committed)
            throw new InvalidOperationException($"snapshot {snapshotId} is active; dispose it instead");
        if (_viewCounts.TryGetValue(snapshotId, out var views) && views > 0)
            throw new InvalidOperationException($"snapshot {snapshotId} is mounted in {views} view(s)");

        // The record goes first (refused while children exist); a crash before the directory is
        // deleted leaves an orphan directory, which CleanupAsync removes.
        await _metadata.DeleteAsync(snapshotId, ct).ConfigureAwait(false);
        DeleteDirectory(DirectoryOf(snapshotId));
    }

    /// <summary>
    /// Unmounts everything under the snapshots directory and deletes active snapshots, views and
    /// directories no record claims. Only for start-up: it also ends this process's own active snapshots.
    /// </summary>
    public async Task CleanupAsync(CancellationToken ct)
    {
        foreach (var mountPoint in OverlayMounts.MountPointsUnder(_root.SnapshotsDir))
            OverlayMounts.UnmountOrDetach(mountPoint);

        var records = await _metadata.ListAsync(ct).ConfigureAwait(false);
        foreach (var active in records.Where(r => r.Kind == SnapshotKind.Active))
            await DiscardAsync(active.Id, ct).ConfigureAwait(false);

        var committed = records.Where(r => r.Kind == SnapshotKind.Committed).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(_root.SnapshotsDir))
        {
            var name = Path.GetFileName(dir);
            if (name is not (ViewsDirName or EmptyDirName) && !committed.Contains(name))
                DeleteDirectory(dir);
        }
        foreach (var view in Directory.EnumerateDirectories(ViewsDir))
            DeleteDirectory(view);
    }

    private async Task<SnapshotInfo> CommitAsync(string id, CancellationToken ct)
    {
        await UnmountForCommitAsync(id, ct).ConfigureAwait(false);
        DeleteDirectory(WorkDirOf(id));
        DeleteDirectory(MountDirOf(id));
        await _metadata.MarkCommittedAsync(id, chainId: null, ct).ConfigureAwait(false);
        return await StatAsync(id, ct).ConfigureAwait(false) ?? throw new InvalidOperationException($"snapshot {id} vanished");
    }

    /// <summary>
    /// A plain unmount: detaching lazily would let a straggler keep writing into a committed snapshot.
    /// A mount can be busy for a moment with nothing of ours left in it (seen under load with
    /// parallel stages, a millisecond after the last write); like containerd, try again for a
    /// while before calling it a real user of the mount.
    /// </summary>
    private async Task UnmountForCommitAsync(string id, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Native.Unmount(MountDirOf(id), detach: false);
                return;
            }
            catch (NativeException e) when (e.Errno == Tmds.Linux.LibC.EBUSY)
            {
                if (attempt == BusyUnmountAttempts)
                    throw new InvalidOperationException($"snapshot {id} cannot be committed while something still uses its mount", e);
            }
            await Task.Delay(BusyUnmountInterval, ct).ConfigureAwait(false);
        }
    }

    private const int BusyUnmountAttempts = 40;
    private static readonly TimeSpan BusyUnmountInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>Unmounts and deletes an active snapshot; the record goes last, so a crash midway is still found by cleanup.</summary>
    private async Task DiscardAsync(string id, CancellationToken ct)
    {
        OverlayMounts.UnmountOrDetach(MountDirOf(id));
        DeleteDirectory(DirectoryOf(id));
        await _metadata.DeleteAsync(id, ct).ConfigureAwait(false);
    }

    private void RemoveViewMount(string snapshotId, string mountPath)
    {
        OverlayMounts.UnmountOrDetach(mountPath);
        DeleteDirectory(mountPath);
        _viewCounts.AddOrUpdate(snapshotId, 0, (_, count) => count - 1);
    }

    /// <summary>The fs dirs of the snapshot and its ancestors, newest first, as overlay's lowerdir wants them.</summary>
    private async Task<List<string>> LowerDirsOfAsync(string snapshotId, CancellationToken ct)
    {
        var chain = await _metadata.ChainAsync(snapshotId, ct).ConfigureAwait(false);
        return chain.Reverse().Select(record => FsDirOf(record.Id)).ToList();
    }

    private async Task RequireCommittedAsync(string snapshotId, CancellationToken ct)
    {
        var record = await _metadata.GetAsync(snapshotId, ct).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"snapshot {snapshotId} does not exist");
        if (record.Kind != SnapshotKind.Committed)
            throw new InvalidOperationException($"snapshot {snapshotId} is not committed");
    }

    private SnapshotInfo InfoOf(SnapshotRecord record) => new(record.Id, record.ParentId, FsDirOf(record.Id), record.Created);

    // Short ids keep overlay's option string short, so longer chains fit in one mount.
    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private sealed class ActiveSnapshot(OverlaySnapshotter owner, string id, string mountPath) : IActiveSnapshot
    {
        private int _state; // 0 open, 1 committed, 2 disposed

        public string Id => id;
        public string MountPath => mountPath;

        public async Task<SnapshotInfo> CommitAsync(CancellationToken ct)
        {
            if (Volatile.Read(ref _state) != 0) throw new InvalidOperationException($"snapshot {id} is already committed or disposed");
            var info = await owner.CommitAsync(id, ct).ConfigureAwait(false);
            Volatile.Write(ref _state, 1);
            return info;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
                await owner.DiscardAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private sealed class MountedView(OverlaySnapshotter owner, string snapshotId, string mountPath) : IMountedView
    {
        private int _disposed;

        public string MountPath => mountPath;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.RemoveViewMount(snapshotId, mountPath);
            return ValueTask.CompletedTask;
        }
    }
}
