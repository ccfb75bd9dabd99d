using Builder.Core.Filesystem;
using Builder.Core.Snapshots;

namespace Builder.Core.Export;

/// <summary>
/// <c>--output type=local,dest=dir</c>: copies the final filesystem into a directory. Symlinks
/// are recreated, never followed (neither in the source nor at the destination); modes, mtimes
/// and, when running as root, owners are kept.
/// </summary>
public sealed class LocalDirExporter(ISnapshotter snapshotter, string destination) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        Directory.CreateDirectory(destination);
        if (output.SnapshotId is null) return new ExportResult(null, null);

        await using var view = await snapshotter.ViewAsync(output.SnapshotId, ct).ConfigureAwait(false);
        await CopyChildrenAsync(view.MountPath, destination, ct).ConfigureAwait(false);
        return new ExportResult(null, null);
    }

    /// <summary>Copies what is inside <paramref name="sourceDir"/>, siblings in ordinal order.</summary>
    private static async Task CopyChildrenAsync(string sourceDir, string targetDir, CancellationToken ct)
    {
        foreach (var name in Directory.EnumerateFileSystemEntries(sourceDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            var source = Path.Combine(sourceDir, name);
            var target = Path.Combine(targetDir, name);
            var status = Native.LStat(source);
            if (status.IsDirectory)
            {
                RemoveUnlessDirectory(target);
                Directory.CreateDirectory(target);
                await CopyChildrenAsync(source, target, ct).ConfigureAwait(false);
                // After the children: creating them changed the directory's mtime.
                ApplyMetadata(target, status);
                continue;
            }
            RemoveExisting(target);
            if (await CreateAsync(source, target, status, ct).ConfigureAwait(false)) ApplyMetadata(target, status);
        }
    }

    /// <returns>false for what cannot be recreated: sockets, and devices when not root (as with cp -a).</returns>
    private static async Task<bool> CreateAsync(string source, string target, FileStatus status, CancellationToken ct)
    {
        switch (status.Type)
        {
            case FileStatus.TypeSymlink:
                Native.CreateSymlink(Native.ReadLink(source), target);
                return true;
            case FileStatus.TypeRegular:
                await using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
                await using (var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                    await from.CopyToAsync(to, ct).ConfigureAwait(false);
                return true;
            case FileStatus.TypeFifo:
            case FileStatus.TypeCharDevice or FileStatus.TypeBlockDevice when Environment.IsPrivilegedProcess:
                Native.CreateNode(target, status.Mode, status.DeviceMajor, status.DeviceMinor);
                return true;
            default:
                return false;
        }
    }

    private static void ApplyMetadata(string target, FileStatus status)
    {
        // Owner first: chown clears setuid/setgid bits, so the mode goes on after it.
        if (Environment.IsPrivilegedProcess) Native.SetOwner(target, status.Uid, status.Gid);
        if (status.IsSymlink) return; // Linux has no symlink modes, and setting a time would follow it
        Native.SetMode(target, status.Permissions);
        var modified = DateTimeOffset.FromUnixTimeSeconds(status.ModifiedSeconds).UtcDateTime;
        if (status.IsDirectory) Directory.SetLastWriteTimeUtc(target, modified);
        else File.SetLastWriteTimeUtc(target, modified);
    }

    /// <summary>Deletes whatever is at <paramref name="path"/> so nothing is written through an old symlink.</summary>
    private static void RemoveExisting(string path)
    {
        var existing = new FileInfo(path);
        if (existing.LinkTarget is null && Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (existing.Exists || existing.LinkTarget is not null) existing.Delete();
    }

    private static void RemoveUnlessDirectory(string path)
    {
        var existing = new FileInfo(path);
        if (existing.LinkTarget is not null || existing.Exists) existing.Delete();
    }
}
