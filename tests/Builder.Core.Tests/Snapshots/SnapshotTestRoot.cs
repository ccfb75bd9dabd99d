using System.Formats.Tar;
using Builder.Core.Snapshots;
using Builder.Core.State;

namespace Builder.Core.Tests.Snapshots;

/// <summary>A fresh state root per test on a real disk (overlay needs xattrs and whiteouts on the upper fs), torn down with its mounts.</summary>
internal sealed class SnapshotTestRoot : IAsyncDisposable
{
    private SnapshotTestRoot(string path, OverlaySnapshotter snapshotter)
    {
        Path = path;
        State = new StateRoot(path);
        Snapshotter = snapshotter;
    }

    public string Path { get; }
    public StateRoot State { get; }
    public OverlaySnapshotter Snapshotter { get; }

    public static async Task<SnapshotTestRoot> CreateAsync()
    {
        var path = System.IO.Path.Join("/var/tmp", "builder-snapshots-test-" + Guid.NewGuid().ToString("N")[..12]);
        var snapshotter = await OverlaySnapshotter.OpenAsync(new StateRoot(path), CancellationToken.None);
        return new SnapshotTestRoot(path, snapshotter);
    }

    public bool HasMounts() => File.ReadAllText("/proc/self/mountinfo").Contains(Path, StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await Snapshotter.CleanupAsync(CancellationToken.None);
        Directory.Delete(Path, recursive: true);
    }

    public async Task<SnapshotInfo> CommitAsync(string? parentId, Action<string> change)
    {
        await using var active = await Snapshotter.PrepareAsync(parentId, CancellationToken.None);
        change(active.MountPath);
        return await active.CommitAsync(CancellationToken.None);
    }

    public Task<SnapshotInfo> ApplyAsync(string chainId, string? parentId, byte[] tar) =>
        Snapshotter.ApplyLayerAsync(chainId, parentId, _ => Task.FromResult<Stream>(new MemoryStream(tar)), CancellationToken.None);

    public static async Task<byte[]> DiffAsync(SnapshotInfo snapshot, DateTimeOffset? timestamp = null)
    {
        using var output = new MemoryStream();
        await new LayerDiffer().WriteLayerAsync(snapshot, output, timestamp, CancellationToken.None);
        return output.ToArray();
    }

    /// <summary>A layer tar read back with System.Formats.Tar: entries in order, with their data.</summary>
    public static List<ReadEntry> ReadTar(byte[] tar)
    {
        var entries = new List<ReadEntry>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            var xattrs = entry is PaxTarEntry pax
                ? pax.ExtendedAttributes.Where(kv => kv.Key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value)
                : [];
            var posix = entry as PosixTarEntry;
            entries.Add(new ReadEntry(entry.Name, entry.EntryType, (int)entry.Mode, entry.Uid, entry.Gid, entry.LinkName,
                entry.ModificationTime.ToUnixTimeSeconds(), Convert.ToHexString(data.ToArray()), posix?.DeviceMajor ?? 0, posix?.DeviceMinor ?? 0,
                string.Join(";", xattrs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value))));
        }
        return entries;
    }
}

internal sealed record ReadEntry(string Name, TarEntryType Type, int Mode, int Uid, int Gid, string LinkName, long ModifiedSeconds,
    string DataHex, int DeviceMajor, int DeviceMinor, string Xattrs);

/// <summary>Builds layer tars by hand for tests, the way a registry would serve them.</summary>
internal sealed class TarBuilder
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public TarBuilder() => _writer = new TarWriter(_stream, TarEntryFormat.Pax, leaveOpen: true);

    public static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000);

    public TarBuilder Dir(string name, int mode = 0x1ED, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, ModificationTime = Time });

    public TarBuilder File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0, IEnumerable<KeyValuePair<string, string>>? pax = null)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name, pax ?? []) { Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, ModificationTime = Time };
        entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
        return Add(entry);
    }

    public TarBuilder Symlink(string name, string target) =>
        Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Mode = (UnixFileMode)0x1FF, ModificationTime = Time });

    public TarBuilder HardLink(string name, string target, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, Mode = (UnixFileMode)0x1A4, Uid = uid, Gid = gid, ModificationTime = Time });

    public TarBuilder Fifo(string name) =>
        Add(new PaxTarEntry(TarEntryType.Fifo, name) { Mode = (UnixFileMode)0x1A4, ModificationTime = Time });

    public TarBuilder Add(TarEntry entry)
    {
        _writer.WriteEntry(entry);
        return this;
    }

    public byte[] Build()
    {
        _writer.Dispose();
        return _stream.ToArray();
    }
}
