using System.Formats.Tar;
using Builder.Core.Filesystem;

namespace Builder.Core.Ops.Files;

/// <summary>
/// ADD's extraction of a local tar into a directory of the stage. Every entry is placed inside
/// the stage root: names climbing out with <c>..</c> are refused, and parents (including symlinks
/// made by earlier entries or already in the image) are resolved with <see cref="RootedPath"/>, so
/// nothing is written through a link out of the root. Owners, modes and times come from the tar
/// unless --chown/--chmod say otherwise.
/// </summary>
internal sealed class ArchiveExtractor(string root, (uint Uid, uint Gid)? owner, int? mode)
{
    private readonly List<(string Path, DateTimeOffset Time)> _directoryTimes = [];

    /// <param name="destination">the directory (inside the root, absolute, already created) to extract into.</param>
    public async Task ExtractAsync(Stream tar, string archiveName, string destination, CancellationToken ct)
    {
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes) continue;
            var name = CleanName(entry.Name, archiveName);
            if (name.Length == 0) continue;
            var inRoot = $"{destination.TrimEnd('/')}/{name}";
            var parent = EnsureParents(inRoot);
            var host = $"{parent}/{Path.GetFileName(name)}";

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (!(Native.TryLStat(host, out var existing) && existing.IsDirectory))
                    {
                        FileActionRunner.RemoveExisting(host);
                        Directory.CreateDirectory(host);
                    }
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    FileActionRunner.RemoveExisting(host);
                    await using (var output = new FileStream(Native.CreateNewFile(host), FileAccess.Write, 1 << 16))
                        if (entry.DataStream is { } data) await data.CopyToAsync(output, ct).ConfigureAwait(false);
                    break;
                case TarEntryType.SymbolicLink:
                    FileActionRunner.RemoveExisting(host);
                    Native.CreateSymlink(entry.LinkName, host);
                    break;
                case TarEntryType.HardLink:
                    var targetName = CleanName(entry.LinkName, archiveName);
                    var target = RootedPath.ResolveParent(root, $"{destination.TrimEnd('/')}/{targetName}").FullPath;
                    if (!Native.TryLStat(target, out var linked) || linked.IsDirectory)
                        throw new FileActionException($"ADD {archiveName}: hard link {entry.Name} points to {entry.LinkName}, which is not in the archive");
                    FileActionRunner.RemoveExisting(host);
                    Native.CreateHardLink(target, host);
                    continue;
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                    FileActionRunner.RemoveExisting(host);
                    var type = entry.EntryType switch { TarEntryType.CharacterDevice => 0x2000u, TarEntryType.BlockDevice => 0x6000u, _ => 0x1000u };
                    Native.CreateNode(host, type | ((uint)entry.Mode & 0xFFF), entry is PosixTarEntry posix ? (uint)posix.DeviceMajor : 0, entry is PosixTarEntry p2 ? (uint)p2.DeviceMinor : 0);
                    break;
                default:
                    continue; // sockets and unknown types are skipped, as Docker's untar does
            }

            var isLink = entry.EntryType == TarEntryType.SymbolicLink;
            var entryMode = isLink ? (int?)null : mode ?? (int)entry.Mode & 0xFFF;
            if (entry.EntryType == TarEntryType.Directory)
            {
                FileActionRunner.ApplyMetadata(host, owner ?? ((uint)entry.Uid, (uint)entry.Gid), entryMode, mtime: null, isSymlink: false);
                _directoryTimes.Add((host, entry.ModificationTime));
            }
            else
            {
                var time = entry.ModificationTime.ToUnixTimeMilliseconds();
                FileActionRunner.ApplyMetadata(host, owner ?? ((uint)entry.Uid, (uint)entry.Gid), entryMode,
                    (Math.DivRem(time, 1000L).Quotient, Math.DivRem(time, 1000L).Remainder * 1_000_000), isSymlink: isLink);
            }
        }
        // Directory times last: creating their children changed them.
        foreach (var (path, time) in Enumerable.Reverse(_directoryTimes))
            Native.SetTimes(path, time.ToUnixTimeSeconds(), 0);
    }

    /// <summary>The entry's path relative to the destination; one that climbs out of it is refused.</summary>
    private static string CleanName(string name, string archiveName)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (parts.Count == 0) throw new FileActionException($"ADD {archiveName}: entry {name} would be written outside the destination");
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    /// <summary>Creates missing parents of an in-root path (0755, as tar does) and returns the parent's host path.</summary>
    private string EnsureParents(string inRoot)
    {
        var slash = inRoot.TrimEnd('/').LastIndexOf('/');
        var parent = slash <= 0 ? "/" : inRoot[..slash];
        var current = "";
        foreach (var component in parent.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = $"{current}/{component}";
            var host = RootedPath.Resolve(root, current);
            if (Native.TryLStat(host, out var status))
            {
                if (!status.IsDirectory) throw new FileActionException($"cannot create directory {current}: a file is in the way");
                continue;
            }
            Directory.CreateDirectory(host);
            FileActionRunner.ApplyMetadata(host, owner ?? (0, 0), 0x1ED, mtime: null, isSymlink: false);
        }
        return RootedPath.Resolve(root, parent);
    }
}
