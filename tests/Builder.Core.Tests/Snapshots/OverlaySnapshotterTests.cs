using System.Formats.Tar;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Snapshots;

public sealed class OverlaySnapshotterTests
{
    [Fact]
    public async Task ChainOfThreeShowsEveryChangeAndEachDiffHoldsOnlyItsOwn()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();

        var first = await root.CommitAsync(null, mnt =>
        {
            Directory.CreateDirectory(Path.Join(mnt, "etc"));
            File.WriteAllText(Path.Join(mnt, "etc/keep"), "base");
            File.WriteAllText(Path.Join(mnt, "etc/change"), "old");
            File.WriteAllText(Path.Join(mnt, "etc/delete"), "doomed");
            Directory.CreateDirectory(Path.Join(mnt, "var/cache"));
            File.WriteAllText(Path.Join(mnt, "var/cache/stale"), "stale");
        });
        var second = await root.CommitAsync(first.Id, mnt =>
        {
            File.WriteAllText(Path.Join(mnt, "etc/change"), "new");
            File.Delete(Path.Join(mnt, "etc/delete"));
            File.WriteAllText(Path.Join(mnt, "added"), "added");
        });
        var third = await root.CommitAsync(second.Id, mnt =>
        {
            // Replacing a directory makes overlay mark the new one opaque.
            Directory.Delete(Path.Join(mnt, "var/cache"), recursive: true);
            Directory.CreateDirectory(Path.Join(mnt, "var/cache"));
            File.WriteAllText(Path.Join(mnt, "var/cache/fresh"), "fresh");
            File.Delete(Path.Join(mnt, "added"));
        });

        await using (var view = await root.Snapshotter.ViewAsync(third.Id, CancellationToken.None))
        {
            Assert.Equal("base", File.ReadAllText(Path.Join(view.MountPath, "etc/keep")));
            Assert.Equal("new", File.ReadAllText(Path.Join(view.MountPath, "etc/change")));
            Assert.False(File.Exists(Path.Join(view.MountPath, "etc/delete")));
            Assert.False(File.Exists(Path.Join(view.MountPath, "added")));
            Assert.Equal(["fresh"], Directory.GetFileSystemEntries(Path.Join(view.MountPath, "var/cache")).Select(Path.GetFileName));
            Assert.Throws<IOException>(() => File.WriteAllText(Path.Join(view.MountPath, "x"), "read-only"));
        }

        Assert.Equal(["etc/", "etc/change", "etc/delete", "etc/keep", "var/", "var/cache/", "var/cache/stale"], Names(await SnapshotTestRoot.DiffAsync(first)));
        Assert.Equal(["added", "etc/", "etc/.wh.delete", "etc/change"], Names(await SnapshotTestRoot.DiffAsync(second)));
        var thirdEntries = SnapshotTestRoot.ReadTar(await SnapshotTestRoot.DiffAsync(third));
        Assert.Equal([".wh.added", "var/", "var/cache/", "var/cache/.wh..wh..opq", "var/cache/fresh"], thirdEntries.Select(e => e.Name));
        Assert.Equal(Convert.ToHexString("fresh"u8), thirdEntries.Single(e => e.Name == "var/cache/fresh").DataHex);
        Assert.Equal(TarEntryType.RegularFile, thirdEntries.Single(e => e.Name == ".wh.added").Type);

        Assert.Equal([first.Id, second.Id, third.Id], (await root.Snapshotter.ChainAsync(third.Id, CancellationToken.None)).Select(s => s.Id));
        Assert.False(root.HasMounts());
    }

    [Fact]
    public async Task DisposingWithoutCommitUnmountsAndDeletes()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        string id;
        await using (var active = await root.Snapshotter.PrepareAsync(null, CancellationToken.None))
        {
            id = active.Id;
            File.WriteAllText(Path.Join(active.MountPath, "scratch"), "x");
            Assert.True(root.HasMounts());
        }

        Assert.False(root.HasMounts());
        Assert.Null(await root.Snapshotter.StatAsync(id, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Join(root.State.SnapshotsDir, id)));
    }

    [Fact]
    public async Task DisposingWhileBusyDetachesLazily()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var active = await root.Snapshotter.PrepareAsync(null, CancellationToken.None);
        var open = File.Create(Path.Join(active.MountPath, "held-open"));

        await active.DisposeAsync();
        open.Dispose();

        Assert.False(root.HasMounts());
    }

    [Fact]
    public async Task FailedPrepareLeavesNothingBehind()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        await Assert.ThrowsAsync<KeyNotFoundException>(() => root.Snapshotter.PrepareAsync("missing", CancellationToken.None));

        await using var active = await root.Snapshotter.PrepareAsync(null, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => root.Snapshotter.PrepareAsync(active.Id, CancellationToken.None));

        Assert.Single(Directory.GetDirectories(root.State.SnapshotsDir), d => d.EndsWith(active.Id, StringComparison.Ordinal));
        Assert.Equal(1, File.ReadAllText("/proc/self/mountinfo").Split('\n').Count(l => l.Contains(root.Path, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CleanupRemovesAnActiveSnapshotACrashLeftMounted()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var committed = await root.CommitAsync(null, mnt => File.WriteAllText(Path.Join(mnt, "kept"), "kept"));
        // Never disposed: as if the process had died with it mounted.
        var abandoned = await root.Snapshotter.PrepareAsync(committed.Id, CancellationToken.None);
        Assert.True(root.HasMounts());

        var restarted = await Builder.Core.Snapshots.OverlaySnapshotter.OpenAsync(root.State, CancellationToken.None);
        await restarted.CleanupAsync(CancellationToken.None);

        Assert.False(root.HasMounts());
        Assert.Null(await restarted.StatAsync(abandoned.Id, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Join(root.State.SnapshotsDir, abandoned.Id)));
        Assert.NotNull(await restarted.StatAsync(committed.Id, CancellationToken.None));
        Assert.True(File.Exists(Path.Join(committed.DiffDir, "kept")));
    }

    [Fact]
    public async Task RemoveRefusesASnapshotWithChildren()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var parent = await root.CommitAsync(null, _ => { });
        var child = await root.CommitAsync(parent.Id, _ => { });

        await Assert.ThrowsAsync<InvalidOperationException>(() => root.Snapshotter.RemoveAsync(parent.Id, CancellationToken.None));

        await root.Snapshotter.RemoveAsync(child.Id, CancellationToken.None);
        await root.Snapshotter.RemoveAsync(parent.Id, CancellationToken.None);
        Assert.Null(await root.Snapshotter.StatAsync(parent.Id, CancellationToken.None));
        Assert.False(Directory.Exists(parent.DiffDir));
    }

    [Fact]
    public async Task ApplyingTheSameChainIdConcurrentlyUnpacksOnce()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var tar = new TarBuilder().File("hello", "world").Build();
        var opened = 0;
        async Task<Stream> Open(CancellationToken ct)
        {
            Interlocked.Increment(ref opened);
            await Task.Delay(100, ct);
            return new MemoryStream(tar);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => root.Snapshotter.ApplyLayerAsync("sha256:chain", null, Open, CancellationToken.None))));

        Assert.Equal(1, opened);
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Equal("world", File.ReadAllText(Path.Join(results[0].DiffDir, "hello")));
    }

    [Fact]
    public async Task ManyBuildsAtOnceEachGetTheirOwnSnapshot()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var parent = await root.CommitAsync(null, mnt => File.WriteAllText(Path.Join(mnt, "shared"), "shared"));

        var children = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            root.CommitAsync(parent.Id, mnt => File.WriteAllText(Path.Join(mnt, "own"), i.ToString())))));

        Assert.Equal(8, children.Select(c => c.Id).Distinct().Count());
        Assert.All(children.Select((c, i) => (c, i)), x => Assert.Equal(x.i.ToString(), File.ReadAllText(Path.Join(x.c.DiffDir, "own"))));
        Assert.False(root.HasMounts());
    }

    private static List<string> Names(byte[] tar) => SnapshotTestRoot.ReadTar(tar).Select(e => e.Name).ToList();
}

public sealed class LongChainTests
{
    [Fact]
    public async Task AChainTooLongForMountOptionsIsMountedLayerByLayer()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        string? parent = null;
        for (var i = 0; i < 120; i++)
        {
            var layer = i is 0 or 119 ? new TarBuilder().File($"from-{i}", i.ToString()).Build() : new TarBuilder().Build();
            parent = (await root.ApplyAsync($"sha256:layer{i}", parent, layer)).Id;
        }

        var top = await root.CommitAsync(parent, mnt =>
        {
            Assert.Equal("0", File.ReadAllText(Path.Join(mnt, "from-0")));
            Assert.Equal("119", File.ReadAllText(Path.Join(mnt, "from-119")));
            File.WriteAllText(Path.Join(mnt, "on-top"), "top");
        });
        await using (var view = await root.Snapshotter.ViewAsync(top.Id, CancellationToken.None))
            Assert.Equal(["from-0", "from-119", "on-top"], Directory.GetFiles(view.MountPath).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        Assert.False(root.HasMounts());
    }
}
