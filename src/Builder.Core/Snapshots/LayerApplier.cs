using System.Buffers;
using System.Formats.Tar;
using System.Text;
using Builder.Core.Filesystem;
using Microsoft.Win32.SafeHandles;

namespace Builder.Core.Snapshots;

/// <summary>
/// Unpacks an OCI layer tar into a directory in overlay upper-dir format: OCI whiteouts become
/// overlay whiteouts (character device 0/0) and opaque markers become the
/// <c>trusted.overlay.opaque</c> xattr, so the directory can serve as an overlay layer as is.
/// <para>
/// Entries are applied in stream order and file data is copied in small chunks, so memory does
/// not grow with the layer. Nothing is written outside the directory: entry names that climb out
/// with <c>..</c> fail the whole layer, and parent components are resolved with
/// <see cref="RootedPath"/>, so a symlink in the layer is never followed out of it. The caller
/// throws the directory away when applying fails: a layer is applied whole or not at all.
/// </para>
/// Parents are resolved within this directory only (as Docker's overlay2 driver does): a symlink
/// in a lower layer is not followed, and a missing parent is created as a plain 0755 directory.
/// </summary>
public sealed class LayerApplier
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string OpaqueXattr = "trusted.overlay.opaque";
    private const string PaxXattrPrefix = "SCHILY.xattr.";
    private const int CopyChunkSize = 128 * 1024;
    private const uint ImplicitDirectoryMode = 0x1ED; // 0755, as tar and containerd give parents the layer did not list

    private readonly string _root;

    // Directory mtimes are set after the whole layer: creating their children would change them again.
    private readonly List<(string Path, DateTimeOffset ModifiedTime)> _directoryTimes = [];

    public LayerApplier(string rootDirectory)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
    }

    /// <summary>Applies every entry of <paramref name="layerTar"/> (an uncompressed tar stream) to the directory.</summary>
    /// <exception cref="LayerApplyException">an entry is unsafe, malformed or could not be written.</exception>
    public async Task ApplyAsync(Stream layerTar, CancellationToken ct)
    {
        _directoryTimes.Clear();
        await using var reader = new TarReader(layerTar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
        {
            try
            {
                await ApplyEntryAsync(entry, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not LayerApplyException)
            {
                throw new LayerApplyException(entry.Name, e.Message, e);
            }
        }

        foreach (var (path, time) in _directoryTimes)
            SetModifiedTime(path, time);
    }

    private async Task ApplyEntryAsync(TarEntry entry, CancellationToken ct)
    {
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes) return;

        var name = CleanEntryName(entry.Name);
        // The layer root's own metadata belongs to the snapshot, not to one layer.
        if (name.Length == 0) return;

        var (directory, baseName) = SplitLast(name);
        if (baseName.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            ApplyWhiteout(entry.Name, directory, baseName);
            return;
        }

        var path = Path.Join(EnsureDirectory(entry.Name, directory), baseName);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                CreateDirectory(path);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                await CreateRegularFileAsync(path, entry.DataStream, ct).ConfigureAwait(false);
                break;
            case TarEntryType.SymbolicLink:
                RemoveExisting(path);
                Native.CreateSymlink(entry.LinkName, path);
                break;
            case TarEntryType.HardLink:
                CreateHardLink(entry, path);
                return; // the link shares its target's inode, and with it owner, mode and times
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                CreateNode(entry, path);
                break;
            default:
                throw new LayerApplyException(entry.Name, $"unsupported tar entry type {entry.EntryType}");
        }

        ApplyMetadata(entry, path);
    }

    /// <summary>
    /// The entry's path relative to the root, with leading slashes and <c>.</c> removed and
    /// <c>..</c> applied; "" for the root itself. A name that climbs above the root is refused.
    /// </summary>
    internal static string CleanEntryName(string name)
    {
        var components = new List<string>();
        foreach (var component in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (component == ".") continue;
            if (component != "..") { components.Add(component); continue; }
            if (components.Count == 0)
                throw new LayerApplyException(name, "path escapes the layer root with '..'");
            components.RemoveAt(components.Count - 1);
        }
        return string.Join('/', components);
    }

    private void ApplyWhiteout(string entryName, string directory, string baseName)
    {
        if (baseName == OpaqueMarker)
        {
            Native.SetXattr(EnsureDirectory(entryName, directory), OpaqueXattr, "y"u8);
            return;
        }
        // Other .wh..wh. names are AUFS bookkeeping with no meaning in OCI layers.
        if (baseName.StartsWith(WhiteoutPrefix + WhiteoutPrefix, StringComparison.Ordinal)) return;

        var hidden = baseName[WhiteoutPrefix.Length..];
        if (hidden is "" or "." or "..")
            throw new LayerApplyException(entryName, "whiteout names no file");
        var path = Path.Join(EnsureDirectory(entryName, directory), hidden);
        RemoveExisting(path);
        Native.CreateNode(path, FileStatus.TypeCharDevice, 0, 0);
    }

    /// <summary>Resolves a parent directory inside the root, creating what is missing.</summary>
    private string EnsureDirectory(string entryName, string directory)
    {
        var path = RootedPath.Resolve(_root, directory);
        if (!Native.TryLStat(path, out var status))
        {
            Directory.CreateDirectory(path);
            Native.SetMode(path, ImplicitDirectoryMode);
            return path;
        }
        if (!status.IsDirectory)
            throw new LayerApplyException(entryName, $"parent {directory} is not a directory");
        return path;
    }

    private static void CreateDirectory(string path)
    {
        if (Native.TryLStat(path, out var existing))
        {
            if (existing.IsDirectory) return; // tar semantics: an existing directory is kept and its metadata updated
            RemoveExisting(path);
            Directory.CreateDirectory(path);
            // A directory over a whiteout must still hide what the lower layers had at that path.
            if (existing.IsOverlayWhiteout) Native.SetXattr(path, OpaqueXattr, "y"u8);
            return;
        }
        Directory.CreateDirectory(path);
    }

    private static async Task CreateRegularFileAsync(string path, Stream? data, CancellationToken ct)
    {
        RemoveExisting(path);
        using var file = Native.CreateNewFile(path);
        if (data is not null) await CopySparseAsync(data, file, ct).ConfigureAwait(false);
    }

    /// <summary>Copies in chunks, leaving holes where a whole chunk is zeros (images carry big sparse files).</summary>
    private static async Task CopySparseAsync(Stream data, SafeFileHandle file, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunkSize);
        try
        {
            long offset = 0;
            while (true)
            {
                var filled = await data.ReadAtLeastAsync(buffer.AsMemory(0, CopyChunkSize), CopyChunkSize, throwOnEndOfStream: false, ct).ConfigureAwait(false);
                if (filled == 0) break;
                if (buffer.AsSpan(0, filled).ContainsAnyExcept((byte)0))
                    await RandomAccess.WriteAsync(file, buffer.AsMemory(0, filled), offset, ct).ConfigureAwait(false);
                offset += filled;
            }
            RandomAccess.SetLength(file, offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CreateHardLink(TarEntry entry, string path)
    {
        var targetName = CleanEntryName(entry.LinkName);
        if (targetName.Length == 0) throw new LayerApplyException(entry.Name, "hardlink to the layer root");
        var target = RootedPath.ResolveParent(_root, targetName).FullPath;
        if (!Native.TryLStat(target, out var status))
            throw new LayerApplyException(entry.Name, $"hardlink target {entry.LinkName} is not in this layer");
        if (status.IsDirectory)
            throw new LayerApplyException(entry.Name, $"hardlink target {entry.LinkName} is a directory");
        if (target == path) return;
        RemoveExisting(path);
        Native.CreateHardLink(target, path);
    }

    private static void CreateNode(TarEntry entry, string path)
    {
        var type = entry.EntryType switch
        {
            TarEntryType.CharacterDevice => FileStatus.TypeCharDevice,
            TarEntryType.BlockDevice => FileStatus.TypeBlockDevice,
            _ => FileStatus.TypeFifo,
        };
        var (major, minor) = entry is PosixTarEntry posix ? (posix.DeviceMajor, posix.DeviceMinor) : (0, 0);
        RemoveExisting(path);
        Native.CreateNode(path, type | 0x180, (uint)major, (uint)minor);
    }

    private void ApplyMetadata(TarEntry entry, string path)
    {
        Native.SetOwner(path, (uint)entry.Uid, (uint)entry.Gid);
        var isSymlink = entry.EntryType == TarEntryType.SymbolicLink;
        // After the owner: chown clears setuid/setgid. Symlinks have no mode of their own.
        if (!isSymlink) Native.SetMode(path, (uint)entry.Mode & 0xFFF);
        foreach (var (name, value) in XattrsOf(entry))
            Native.SetXattr(path, name, value);

        if (entry.EntryType == TarEntryType.Directory)
            _directoryTimes.Add((path, entry.ModificationTime));
        else
            SetModifiedTime(path, entry.ModificationTime);
    }

    private static IEnumerable<(string Name, byte[] Value)> XattrsOf(TarEntry entry)
    {
        if (entry is not PaxTarEntry pax) yield break;
        foreach (var (key, value) in pax.ExtendedAttributes)
        {
            if (!key.StartsWith(PaxXattrPrefix, StringComparison.Ordinal)) continue;
            var name = key[PaxXattrPrefix.Length..];
            // Overlay's own attributes steer the mount (redirects, opacity); a layer may not set them directly.
            if (name.StartsWith("trusted.overlay.", StringComparison.Ordinal)) continue;
            yield return (name, Encoding.UTF8.GetBytes(value));
        }
    }

    private static void SetModifiedTime(string path, DateTimeOffset time)
    {
        var ticks = (time - DateTimeOffset.UnixEpoch).Ticks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        if (remainder < 0) { seconds--; remainder += TimeSpan.TicksPerSecond; }
        Native.SetTimes(path, seconds, remainder * 100);
    }

    /// <summary>Removes whatever is at <paramref name="path"/> (a directory with its contents), never following a symlink.</summary>
    private static void RemoveExisting(string path)
    {
        if (!Native.TryLStat(path, out var existing)) return;
        if (existing.IsDirectory) Directory.Delete(path, recursive: true);
        else File.Delete(path);
    }

    private static (string Directory, string Name) SplitLast(string cleanName)
    {
        var slash = cleanName.LastIndexOf('/');
        return slash < 0 ? ("", cleanName) : (cleanName[..slash], cleanName[(slash + 1)..]);
    }
}

/// <summary>A layer could not be applied; the message names the offending entry.</summary>
public sealed class LayerApplyException(string entryName, string reason, Exception? inner = null)
    : IOException($"layer entry \"{entryName}\": {reason}", inner)
{
    public string EntryName { get; } = entryName;
}
