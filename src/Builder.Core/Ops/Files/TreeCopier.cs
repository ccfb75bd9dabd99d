using Builder.Core.Filesystem;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Copies files and trees from a source root into a destination as COPY does: types, modes,
/// owners (unless a --chown owner is given) and modification times kept; symlinks copied as links,
/// never followed; contents streamed. Destination paths given here are already resolved.
/// </summary>
internal sealed class TreeCopier((uint Uid, uint Gid)? owner, int? mode, long? timestamp)
{
    private const int BufferSize = 1 << 20;

    /// <summary>Copies what is inside <paramref name="sourceDir"/> into the existing <paramref name="targetDir"/>.</summary>
    public async Task CopyContentsAsync(string sourceDir, string targetDir, CancellationToken ct)
    {
        foreach (var child in Children(sourceDir))
            await CopyEntryAsync(Path.Combine(sourceDir, child), Path.Combine(targetDir, child), ct).ConfigureAwait(false);
    }

    /// <summary>Copies one entry (recursively for a directory) to <paramref name="target"/>, replacing what is there unless both are directories.</summary>
    public async Task CopyEntryAsync(string source, string target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var status = Native.LStat(source);
        var targetOwner = owner ?? (status.Uid, status.Gid);
        var targetMode = mode ?? (int)status.Permissions;
        (long, long) mtime = timestamp is { } t ? (t, 0) : (status.ModifiedSeconds, status.ModifiedNanoseconds);

        if (status.IsDirectory)
        {
            var existing = Native.TryLStat(target, out var there) && there.IsDirectory;
            if (!existing)
            {
                FileActionRunner.RemoveExisting(target);
                Directory.CreateDirectory(target);
            }
            await CopyContentsAsync(source, target, ct).ConfigureAwait(false);
            // Directory times last: creating children changed them.
            FileActionRunner.ApplyMetadata(target, targetOwner, targetMode, mtime, isSymlink: false);
            return;
        }

        FileActionRunner.RemoveExisting(target);
        if (status.IsRegularFile)
            await CopyFileAsync(source, target, ct).ConfigureAwait(false);
        else if (status.IsSymlink)
            Native.CreateSymlink(Native.ReadLink(source), target);
        else
            Native.CreateNode(target, status.Mode, status.DeviceMajor, status.DeviceMinor);
        FileActionRunner.ApplyMetadata(target, targetOwner, status.IsSymlink ? null : targetMode, mtime, isSymlink: status.IsSymlink);
    }

    private static async Task CopyFileAsync(string source, string target, CancellationToken ct)
    {
        await using var input = new FileStream(Native.OpenForReading(source), FileAccess.Read, BufferSize);
        await using var output = new FileStream(Native.CreateNewFile(target), FileAccess.Write, BufferSize);
        await input.CopyToAsync(output, BufferSize, ct).ConfigureAwait(false);
    }

    /// <summary>Sorted, so the order files are written in (and hard-link-free inode order) never depends on the host's directory order.</summary>
    private static IEnumerable<string> Children(string dir) =>
        new DirectoryInfo(dir).EnumerateFileSystemInfos().Select(i => i.Name).Order(StringComparer.Ordinal);
}
