using Builder.Core.Context;
using Builder.Core.Filesystem;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Copies files and trees from a source root into a destination as COPY does: types, modes,
/// owners (unless a --chown owner is given) and modification times kept; symlinks copied as links,
/// never followed; files that are hard links of each other in the source stay linked; contents
/// streamed. Entries the source's .dockerignore or the COPY's --exclude patterns name are skipped.
/// Destination paths given here are already resolved.
/// </summary>
internal sealed class TreeCopier((uint Uid, uint Gid)? owner, int? mode, long? timestamp, IPathFilter sourceFilter, IPathFilter excludes)
{
    private const int CopyBufferSize = 1 << 17;
    private readonly Dictionary<(ulong Device, ulong Inode), string> _linked = [];

    /// <summary>
    /// Copies what is inside <paramref name="sourceDir"/> into the existing <paramref name="targetDir"/>.
    /// <paramref name="rootRelative"/> is the directory's path in the source root ("" for the root),
    /// <paramref name="copyRelative"/> its path below the COPY's source ("" for the source itself).
    /// </summary>
    public async Task CopyContentsAsync(string sourceDir, string targetDir, string rootRelative, string copyRelative, CancellationToken ct)
    {
        foreach (var child in Children(sourceDir))
        {
            var childRoot = Join(rootRelative, child);
            var childCopy = Join(copyRelative, child);
            if (IsSkipped(Path.Combine(sourceDir, child), childRoot, childCopy)) continue;
            await CopyEntryAsync(Path.Combine(sourceDir, child), Path.Combine(targetDir, child), childRoot, childCopy, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Copies one entry (recursively for a directory) to <paramref name="target"/>, replacing what is there unless both are directories.</summary>
    public async Task CopyEntryAsync(string source, string target, string rootRelative, string copyRelative, CancellationToken ct)
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
            await CopyContentsAsync(source, target, rootRelative, copyRelative, ct).ConfigureAwait(false);
            // Directory times last: creating children changed them.
            FileActionRunner.ApplyMetadata(target, targetOwner, targetMode, mtime, isSymlink: false);
            return;
        }

        FileActionRunner.RemoveExisting(target);
        if (status.IsRegularFile && status.LinkCount > 1)
        {
            if (_linked.TryGetValue((status.Device, status.Inode), out var first))
            {
                Native.CreateHardLink(first, target);
                return;
            }
            _linked[(status.Device, status.Inode)] = target;
        }
        if (status.IsRegularFile)
            await CopyFileAsync(source, target, ct).ConfigureAwait(false);
        else if (status.IsSymlink)
            Native.CreateSymlink(Native.ReadLink(source), target);
        else
            Native.CreateNode(target, status.Mode, status.DeviceMajor, status.DeviceMinor);
        FileActionRunner.ApplyMetadata(target, targetOwner, status.IsSymlink ? null : targetMode, mtime, isSymlink: status.IsSymlink);
    }

    /// <summary>Whether an entry below a copied directory is left out (.dockerignore of the source, or --exclude).</summary>
    private bool IsSkipped(string host, string rootRelative, string copyRelative)
    {
        var byIgnore = sourceFilter.IsExcluded(rootRelative);
        var byExclude = excludes.IsExcluded(copyRelative);
        if (!byIgnore && !byExclude) return false;
        // An excluded directory may still hold re-included entries ("!" patterns): it is walked, copying only those.
        if (!Native.TryLStat(host, out var status) || !status.IsDirectory) return true;
        return (byIgnore && !sourceFilter.MayContainIncluded(rootRelative)) || (byExclude && !excludes.MayContainIncluded(copyRelative));
    }

    private static string Join(string parent, string child) => parent.Length == 0 ? child : $"{parent}/{child}";

    /// <summary>
    /// In-kernel when it can be (copy_file_range), else through one pooled buffer. Both ends are
    /// opened by us: the source without following a link, the target created new, never through one.
    /// </summary>
    private static Task CopyFileAsync(string source, string target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var input = Native.OpenForReading(source);
        using var output = Native.CreateNewFile(target);
        if (!Native.TryCopyFileRange(input, output, source))
        {
            // Unbuffered streams: Stream.CopyTo rents its one buffer from the shared pool.
            using var from = new FileStream(input, FileAccess.Read, bufferSize: 0);
            using var to = new FileStream(output, FileAccess.Write, bufferSize: 0);
            from.CopyTo(to, CopyBufferSize);
        }
        return Task.CompletedTask;
    }

    /// <summary>Sorted, so the order files are written in never depends on the host's directory order.</summary>
    private static IEnumerable<string> Children(string dir) =>
        new DirectoryInfo(dir).EnumerateFileSystemInfos().Select(i => i.Name).Order(StringComparer.Ordinal);
}
