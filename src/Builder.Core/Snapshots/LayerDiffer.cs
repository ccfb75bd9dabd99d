using System.Formats.Tar;
using Builder.Core.Filesystem;

namespace Builder.Core.Snapshots;

/// <summary>
/// Packs a snapshot's diff directory (an overlay upper dir) into an OCI layer tar. The directory
/// is walked depth first with each directory's children in ordinal order, parents before
/// children, so the same tree always gives the same bytes. Overlay whiteouts become
/// <c>.wh.&lt;name&gt;</c> entries and opaque directories get a <c>.wh..wh..opq</c> entry right
/// after their own. File contents are streamed from disk to <c>output</c> in small chunks.
/// The same writer packs a plain tree (<see cref="WriteTreeAsync"/>) for the flat tar exporter.
/// </summary>
public sealed class LayerDiffer : ILayerDiffer
{
    private const string OverlayXattrPrefix = "trusted.overlay.";
    private const string OpaqueXattr = "trusted.overlay.opaque";

    public Task WriteLayerAsync(SnapshotInfo snapshot, Stream output, DateTimeOffset? timestamp, CancellationToken ct) =>
        WriteDirectoryAsync(snapshot.DiffDir, output, timestamp, ct);

    /// <summary>Writes the layer tar of any directory in overlay upper-dir format.</summary>
    public static Task WriteDirectoryAsync(string diffDir, Stream output, DateTimeOffset? timestamp, CancellationToken ct) =>
        WriteAsync(diffDir, overlayFormat: true, output, timestamp, ct);

    /// <summary>
    /// Writes a plain directory tree (a mounted view, not an upper dir) as a tar with the same
    /// reproducible entries, without reading anything as a whiteout: a 0/0 character device is a
    /// device, an opaque xattr is nothing special.
    /// </summary>
    public static Task WriteTreeAsync(string directory, Stream output, DateTimeOffset? timestamp, CancellationToken ct) =>
        WriteAsync(directory, overlayFormat: false, output, timestamp, ct);

    private static async Task WriteAsync(string directory, bool overlayFormat, Stream output, DateTimeOffset? timestamp, CancellationToken ct)
    {
        var walk = new Walk(new LayerTarWriter(output), overlayFormat, timestamp?.ToUnixTimeSeconds());
        await walk.WriteChildrenAsync(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)), "", ct).ConfigureAwait(false);
        await walk.Writer.FinishAsync(ct).ConfigureAwait(false);
    }

    /// <param name="overlayFormat">whether whiteouts and opaque directories are turned into OCI markers.</param>
    private sealed class Walk(LayerTarWriter writer, bool overlayFormat, long? clampSeconds)
    {
        // The first tar name seen for each multiply-linked inode; later paths become hardlink entries to it.
        private readonly Dictionary<(ulong Device, ulong Inode), string> _firstPathOfInode = [];

        public LayerTarWriter Writer => writer;

        public async Task WriteChildrenAsync(string hostDirectory, string tarDirectory, CancellationToken ct)
        {
            foreach (var (name, tarName, status) in SortedChildren(hostDirectory, overlayFormat))
            {
                ct.ThrowIfCancellationRequested();
                var hostPath = hostDirectory + "/" + name;
                var tarPath = tarDirectory + tarName;

                if (overlayFormat && status.IsOverlayWhiteout)
                    await WriteMarkerAsync(tarPath, ct).ConfigureAwait(false);
                else if (status.IsDirectory)
                    await WriteDirectoryAsync(hostPath, tarPath + "/", status, ct).ConfigureAwait(false);
                else if (status.IsRegularFile)
                    await WriteRegularFileAsync(hostPath, tarPath, status, ct).ConfigureAwait(false);
                else if (status.IsSymlink)
                    await writer.WriteEntryAsync(EntryFor(hostPath, tarPath, TarEntryType.SymbolicLink, status) with { LinkName = Native.ReadLink(hostPath) }, null, ct).ConfigureAwait(false);
                else if (NodeTypeOf(status) is { } nodeType)
                    await writer.WriteEntryAsync(EntryFor(hostPath, tarPath, nodeType, status) with { DeviceMajor = status.DeviceMajor, DeviceMinor = status.DeviceMinor }, null, ct).ConfigureAwait(false);
                // Sockets are left out, as every image builder does: they cannot be carried in a layer.
            }
        }

        private async Task WriteDirectoryAsync(string hostPath, string tarPath, FileStatus status, CancellationToken ct)
        {
            await writer.WriteEntryAsync(EntryFor(hostPath, tarPath, TarEntryType.Directory, status), null, ct).ConfigureAwait(false);
            if (overlayFormat && Native.GetXattr(hostPath, OpaqueXattr) is [(byte)'y'])
                await WriteMarkerAsync(tarPath + ".wh..wh..opq", ct).ConfigureAwait(false);
            await WriteChildrenAsync(hostPath, tarPath, ct).ConfigureAwait(false);
        }

        private async Task WriteRegularFileAsync(string hostPath, string tarPath, FileStatus status, CancellationToken ct)
        {
            if (status.LinkCount > 1)
            {
                if (_firstPathOfInode.TryGetValue((status.Device, status.Inode), out var first))
                {
                    var link = EntryFor(hostPath, tarPath, TarEntryType.HardLink, status) with { LinkName = first };
                    await writer.WriteEntryAsync(link, null, ct).ConfigureAwait(false);
                    return;
                }
                _firstPathOfInode[(status.Device, status.Inode)] = tarPath;
            }

            using var content = Native.OpenForReading(hostPath);
            var entry = EntryFor(hostPath, tarPath, TarEntryType.RegularFile, status) with { Size = status.Size };
            await writer.WriteEntryAsync(entry, content, ct).ConfigureAwait(false);
        }

        // Whiteout and opaque markers get fixed metadata: their disk timestamps are when something was
        // deleted, which would make the same change give a different layer each build.
        private Task WriteMarkerAsync(string tarPath, CancellationToken ct) =>
            writer.WriteEntryAsync(new LayerTarEntry(tarPath, TarEntryType.RegularFile, Mode: 0, Uid: 0, Gid: 0, Size: 0, ModifiedSeconds: 0), null, ct);

        private LayerTarEntry EntryFor(string hostPath, string tarPath, TarEntryType type, FileStatus status) => new(
            Name: tarPath,
            Type: type,
            Mode: status.Permissions,
            Uid: status.Uid,
            Gid: status.Gid,
            Size: 0,
            ModifiedSeconds: clampSeconds is { } clamp ? Math.Min(status.ModifiedSeconds, clamp) : status.ModifiedSeconds,
            Xattrs: XattrsOf(hostPath));

        private static List<(string Name, byte[] Value)> XattrsOf(string hostPath)
        {
            var xattrs = new List<(string, byte[])>();
            foreach (var name in Native.ListXattrs(hostPath))
            {
                if (name.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal)) continue;
                if (Native.GetXattr(hostPath, name) is { } value) xattrs.Add((name, value));
            }
            return xattrs;
        }

        private static TarEntryType? NodeTypeOf(FileStatus status) => status.Type switch
        {
            FileStatus.TypeCharDevice => TarEntryType.CharacterDevice,
            FileStatus.TypeBlockDevice => TarEntryType.BlockDevice,
            FileStatus.TypeFifo => TarEntryType.Fifo,
            _ => null,
        };

        /// <summary>A directory's children ordered by the name their tar entry gets (a whiteout's is <c>.wh.&lt;name&gt;</c>).</summary>
        private static List<(string Name, string TarName, FileStatus Status)> SortedChildren(string hostDirectory, bool overlayFormat)
        {
            var everything = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
            var children = new List<(string Name, string TarName, FileStatus Status)>();
            foreach (var name in Directory.EnumerateFileSystemEntries(hostDirectory, "*", everything).Select(Path.GetFileName))
            {
                var status = Native.LStat(hostDirectory + "/" + name);
                children.Add((name!, overlayFormat && status.IsOverlayWhiteout ? ".wh." + name : name!, status));
            }
            children.Sort((a, b) => string.CompareOrdinal(a.TarName, b.TarName));
            return children;
        }
    }
}
