using System.Formats.Tar;

namespace Builder.Core.Export;

/// <summary>
/// Writes a directory tree as a tar stream: what the tar exporter sends, and the shape of a
/// layer. Entries come sorted and every header field is set from lstat, so the same tree gives
/// the same bytes. GNU format: long names without PAX headers, whose names .NET derives from
/// the process id and so differ between runs.
/// </summary>
internal static class FileTreeTar
{
    /// <param name="clampTime">SOURCE_DATE_EPOCH: no entry is newer than this when set.</param>
    public static async Task WriteAsync(string root, Stream output, DateTimeOffset? clampTime, CancellationToken ct)
    {
        await using var tar = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        var firstPathOfInode = new Dictionary<(ulong Device, ulong Inode), string>();
        foreach (var (path, name, status) in FileTree.SortedEntries(root))
        {
            ct.ThrowIfCancellationRequested();
            if (status.Kind == FileKind.Socket) continue; // tar has no sockets; neither do images

            var entry = NewEntry(path, name, status, firstPathOfInode);
            entry.Mode = status.Mode;
            entry.Uid = (int)status.Uid;
            entry.Gid = (int)status.Gid;
            entry.UserName = "";
            entry.GroupName = "";
            entry.ModificationTime = clampTime is { } clamp && status.ModificationTime > clamp ? clamp : status.ModificationTime;

            if (entry.EntryType == TarEntryType.RegularFile)
            {
                await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                entry.DataStream = content;
                await tar.WriteEntryAsync(entry, ct).ConfigureAwait(false);
            }
            else
            {
                await tar.WriteEntryAsync(entry, ct).ConfigureAwait(false);
            }
        }
    }

    private static GnuTarEntry NewEntry(string path, string name, FileStatus status, Dictionary<(ulong, ulong), string> firstPathOfInode)
    {
        switch (status.Kind)
        {
            case FileKind.Directory:
                return new GnuTarEntry(TarEntryType.Directory, name + "/");
            case FileKind.Symlink:
                return new GnuTarEntry(TarEntryType.SymbolicLink, name) { LinkName = new FileInfo(path).LinkTarget ?? "" };
            case FileKind.CharDevice or FileKind.BlockDevice:
                return new GnuTarEntry(status.Kind == FileKind.CharDevice ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, name)
                {
                    DeviceMajor = status.DeviceMajor,
                    DeviceMinor = status.DeviceMinor,
                };
            case FileKind.Fifo:
                return new GnuTarEntry(TarEntryType.Fifo, name);
            default:
                // A file with several names is stored once; later names link to the first.
                if (status.LinkCount > 1)
                {
                    var key = (status.Device, status.Inode);
                    if (firstPathOfInode.TryGetValue(key, out var first))
                        return new GnuTarEntry(TarEntryType.HardLink, name) { LinkName = first };
                    firstPathOfInode[key] = name;
                }
                return new GnuTarEntry(TarEntryType.RegularFile, name);
        }
    }
}
