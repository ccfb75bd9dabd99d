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
        var directories = new List<(string Target, FileStatus Status)>();
        foreach (var (source, name, status) in FileTree.SortedEntries(view.MountPath))
        {
            ct.ThrowIfCancellationRequested();
            var target = Path.Combine(destination, name);
            if (status.Kind == FileKind.Directory)
            {
                RemoveUnlessDirectory(target);
                Directory.CreateDirectory(target);
                directories.Add((target, status));
                continue;
            }
            RemoveExisting(target);
            if (await CreateAsync(source, target, status, ct).ConfigureAwait(false)) ApplyMetadata(target, status);
        }
        // Directories last, deepest first: creating their children would change their mtimes.
        for (var i = directories.Count - 1; i >= 0; i--) ApplyMetadata(directories[i].Target, directories[i].Status);
        return new ExportResult(null, null);
    }

    /// <returns>false for what cannot be recreated: sockets, and devices when not root (as with cp -a).</returns>
    private static async Task<bool> CreateAsync(string source, string target, FileStatus status, CancellationToken ct)
    {
        switch (status.Kind)
        {
            case FileKind.Symlink:
                File.CreateSymbolicLink(target, new FileInfo(source).LinkTarget ?? "");
                return true;
            case FileKind.Regular:
                await using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
                await using (var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                    await from.CopyToAsync(to, ct).ConfigureAwait(false);
                return true;
            case FileKind.Fifo:
            case FileKind.CharDevice or FileKind.BlockDevice when Environment.IsPrivilegedProcess:
                FileStatus.Mknod(target, status.Kind, status.Mode, status.DeviceMajor, status.DeviceMinor);
                return true;
            default:
                return false;
        }
    }

    private static void ApplyMetadata(string target, FileStatus status)
    {
        // Owner first: chown clears setuid/setgid bits, so the mode goes on after it.
        if (Environment.IsPrivilegedProcess) FileStatus.Lchown(target, status.Uid, status.Gid);
        if (status.Kind == FileKind.Symlink) return; // Linux has no symlink modes, and setting a time would follow it
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(target, status.Mode);
        if (status.Kind == FileKind.Directory) Directory.SetLastWriteTimeUtc(target, status.ModificationTime.UtcDateTime);
        else File.SetLastWriteTimeUtc(target, status.ModificationTime.UtcDateTime);
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
