using System.Formats.Tar;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Snapshots;

/// <summary>
/// Malicious layers against a target dir nested in a sentinel dir: whatever the layer does,
/// nothing may appear in the sentinel dir outside the target.
/// </summary>
public sealed class TarSlipTests : IDisposable
{
    private readonly string _sentinel = Directory.CreateTempSubdirectory("tarslip-").FullName;
    private readonly string _target;

    public TarSlipTests()
    {
        _target = Path.Join(_sentinel, "a/b/c/target");
        Directory.CreateDirectory(_target);
    }

    public void Dispose() => Directory.Delete(_sentinel, recursive: true);

    public static TheoryData<string> EscapingLayers => ["dotdot", "absolute-dotdot", "hardlink-out", "hardlink-through-symlink"];

    [Theory]
    [MemberData(nameof(EscapingLayers))]
    public async Task EscapingEntriesFailTheWholeLayer(string layer)
    {
        var tar = layer switch
        {
            "dotdot" => new TarBuilder().File("fine", "ok").File("../evil", "x").Build(),
            "absolute-dotdot" => new TarBuilder().File("fine", "ok").File("/abs/../../evil", "x").Build(),
            "hardlink-out" => new TarBuilder().File("fine", "ok").HardLink("passwd", "../../etc/passwd").Build(),
            // Resolved inside the root the target does not exist, so nothing is linked to the host's file.
            _ => new TarBuilder().Symlink("link", "/").HardLink("passwd", "link/etc/passwd").Build(),
        };

        var error = await Assert.ThrowsAsync<LayerApplyException>(() => Apply(tar));

        Assert.Contains(error.EntryName.TrimStart('/'), error.Message);
        AssertNothingOutsideTarget();
    }

    [Fact]
    public async Task SymlinkParentsAreResolvedInsideTheRoot()
    {
        var tar = new TarBuilder()
            .Symlink("link", "/")
            .File("link/etc/evil", "rooted")
            .Symlink("up", "../../..")
            .File("up/evil", "clamped")
            .Build();

        await Apply(tar);

        Assert.Equal("rooted", File.ReadAllText(Path.Join(_target, "etc/evil")));
        Assert.Equal("clamped", File.ReadAllText(Path.Join(_target, "evil")));
        // The symlinks themselves are kept as the layer wrote them.
        Assert.Equal("/", new FileInfo(Path.Join(_target, "link")).LinkTarget);
        Assert.Equal("../../..", new FileInfo(Path.Join(_target, "up")).LinkTarget);
        AssertNothingOutsideTarget();
    }

    [Fact]
    public async Task AnEntryReplacingASymlinkNeverWritesThroughIt()
    {
        var outside = Path.Join(_sentinel, "outside-file");
        var tar = new TarBuilder()
            .Symlink("victim", outside)
            .File("victim", "replaced")
            .Build();

        await Apply(tar);

        Assert.False(File.Exists(outside));
        Assert.Equal("replaced", File.ReadAllText(Path.Join(_target, "victim")));
    }

    [Fact]
    public async Task SnapshotOfARejectedLayerIsNotCommitted()
    {
        await using var root = await SnapshotTestRoot.CreateAsync();
        var tar = new TarBuilder().File("fine", "ok").File("../evil", "x").Build();

        await Assert.ThrowsAsync<LayerApplyException>(() => root.ApplyAsync("sha256:evil", null, tar));

        Assert.Empty(Directory.GetDirectories(root.State.SnapshotsDir).Select(Path.GetFileName).Except(["views", "empty"]));
        // Applying the same chain id again tries again rather than returning a half-applied layer.
        await Assert.ThrowsAsync<LayerApplyException>(() => root.ApplyAsync("sha256:evil", null, tar));
    }

    private Task Apply(byte[] tar) => new LayerApplier(_target).ApplyAsync(new MemoryStream(tar), CancellationToken.None);

    private void AssertNothingOutsideTarget()
    {
        var outside = EntriesNotFollowingLinks(_sentinel)
            .Where(p => p != _target && !p.StartsWith(_target + "/", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(_sentinel, p))
            .ToList();
        Assert.Equal(["a", "a/b", "a/b/c"], outside.Order(StringComparer.Ordinal));
    }

    // .NET's recursive enumeration follows directory symlinks, and the layers here link to "/".
    private static IEnumerable<string> EntriesNotFollowingLinks(string directory)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            yield return entry.FullName;
            if (entry is DirectoryInfo && entry.LinkTarget is null)
                foreach (var child in EntriesNotFollowingLinks(entry.FullName)) yield return child;
        }
    }
}
