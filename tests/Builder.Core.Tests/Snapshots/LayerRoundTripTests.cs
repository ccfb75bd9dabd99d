using System.Formats.Tar;
using System.Text;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Snapshots;

public sealed class LayerRoundTripTests
{
    private static readonly string LongName = "deep/" + new string('n', 120) + ".txt";

    [Fact]
    public async Task AppliedLayerDiffsBackToEquivalentEntries()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var parent = await root.ApplyAsync("sha256:base", null, new TarBuilder()
            .Dir("gone/").File("gone/file", "lower")
            .Dir("opaque/").File("opaque/lower-only", "hidden soon")
            .Build());

        var layer = new TarBuilder()
            .Dir("bin/")
            .File("bin/su", "setuid", mode: 0x9ED /* 04755 */)
            .Dir("data/", mode: 0x1C0 /* 0700 */, uid: 1000, gid: 1000)
            .File("data/file", "shared inode", uid: 1000, gid: 1000)
            .HardLink("data/hard", "data/file", uid: 1000, gid: 1000) // a tar writer records the shared inode's owner
            .File("data/tagged", "xattr", pax: [new("SCHILY.xattr.user.origin", "test")])
            .Symlink("data/abs", "/etc/passwd")
            .Symlink("data/rel", "../bin/su")
            .Fifo("data/pipe")
            .Add(new PaxTarEntry(TarEntryType.CharacterDevice, "data/null") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0x1B6, ModificationTime = TarBuilder.Time })
            .Dir("deep/")
            .File(LongName, "long name")
            .File(".wh.gone", "")
            .Dir("opaque/")
            .File("opaque/.wh..wh..opq", "")
            .File("opaque/upper", "visible")
            .Build();
        var applied = await root.ApplyAsync("sha256:layer", parent.Id, layer);

        await using (var view = await root.Snapshotter.ViewAsync(applied.Id, CancellationToken.None))
        {
            Assert.False(Directory.Exists(Path.Join(view.MountPath, "gone")));
            Assert.Equal(["upper"], Directory.GetFileSystemEntries(Path.Join(view.MountPath, "opaque")).Select(Path.GetFileName));
            Assert.Equal("shared inode", File.ReadAllText(Path.Join(view.MountPath, "data/hard")));
        }

        var expected = SnapshotTestRoot.ReadTar(layer).ToDictionary(e => e.Name);
        var actual = SnapshotTestRoot.ReadTar(await SnapshotTestRoot.DiffAsync(applied)).ToDictionary(e => e.Name);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var name in expected.Keys.Where(n => !n.Contains(".wh.", StringComparison.Ordinal)))
            Assert.Equal(Comparable(expected[name]), Comparable(actual[name]));
        Assert.Equal(TarEntryType.HardLink, actual["data/hard"].Type);
        Assert.Equal("data/file", actual["data/hard"].LinkName);
        Assert.Equal(0x9ED, actual["bin/su"].Mode);
        Assert.Equal("SCHILY.xattr.user.origin=test", actual["data/tagged"].Xattrs);
    }

    [Fact]
    public async Task DiffOfTheSameTreeIsByteIdenticalAndPaxNamesHoldNoPid()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var snapshot = await root.ApplyAsync("sha256:repro", null, new TarBuilder()
            .Dir("deep/").File(LongName, "long").File("tagged", "x", pax: [new("SCHILY.xattr.user.a", "1")]).Build());

        var once = await SnapshotTestRoot.DiffAsync(snapshot);
        var twice = await SnapshotTestRoot.DiffAsync(snapshot);

        Assert.Equal(once, twice);
        var raw = Encoding.ASCII.GetString(once);
        Assert.Contains("PaxHeaders.0/", raw);
        Assert.DoesNotContain($"PaxHeaders.{Environment.ProcessId}", raw);
        Assert.Equal(0, once.Length % 512);
    }

    [Fact]
    public async Task TimestampClampsNewerMtimesOnly()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var snapshot = await root.CommitAsync(null, mnt =>
        {
            File.WriteAllText(Path.Join(mnt, "new"), "now");
            File.WriteAllText(Path.Join(mnt, "old"), "then");
            File.SetLastWriteTimeUtc(Path.Join(mnt, "old"), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        });
        var epoch = DateTimeOffset.FromUnixTimeSeconds(1_000_000_000 + 86400 * 365 * 2); // 2003

        var entries = SnapshotTestRoot.ReadTar(await SnapshotTestRoot.DiffAsync(snapshot, epoch)).ToDictionary(e => e.Name);

        Assert.Equal(epoch.ToUnixTimeSeconds(), entries["new"].ModifiedSeconds);
        Assert.Equal(new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), entries["old"].ModifiedSeconds);
    }

    [Fact]
    public async Task APlainTreeKeepsWhatAnUpperDirWouldReadAsWhiteouts()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var parent = await root.ApplyAsync("sha256:base", null, new TarBuilder().File("gone", "lower").Dir("opaque/").Build());
        var applied = await root.ApplyAsync("sha256:layer", parent.Id, new TarBuilder()
            .File(".wh.gone", "").Dir("opaque/").File("opaque/.wh..wh..opq", "").File("opaque/upper", "visible").Build());

        using var output = new MemoryStream();
        await LayerDiffer.WriteTreeAsync(applied.DiffDir, output, null, CancellationToken.None);
        var entries = SnapshotTestRoot.ReadTar(output.ToArray());

        Assert.Equal(["gone", "opaque/", "opaque/upper"], entries.Select(e => e.Name));
        Assert.Equal((TarEntryType.CharacterDevice, 0, 0), (entries[0].Type, entries[0].DeviceMajor, entries[0].DeviceMinor));
    }

    private static object Comparable(ReadEntry e) => e with { Name = "" };
}
