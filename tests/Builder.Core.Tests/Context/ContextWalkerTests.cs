using Builder.Core.Context;

namespace Builder.Core.Tests.Context;

public sealed class ContextWalkerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ContextFiles _files;

    public ContextWalkerTests() => _files = new ContextFiles(_dir.Path);

    public void Dispose()
    {
        _files.Dispose();
        _dir.Dispose();
    }

    private List<ContextEntry> Walk(IPathFilter? filter = null) =>
        [.. new ContextWalker(_dir.Path, filter ?? IncludeEverything.Instance).Walk()];

    private List<string> WalkPaths(IPathFilter? filter = null) => [.. Walk(filter).Select(e => e.Path)];

    [Fact]
    public void Walks_depth_first_with_each_directory_in_ordinal_order()
    {
        _files.File("b", "").File("a-c", "").File("a/z/y", "").File("a/b", "").File(".hidden", "").File("B", "");

        Assert.Equal([".hidden", "B", "a", "a/b", "a/z", "a/z/y", "a-c", "b"], WalkPaths());
    }

    [Fact]
    public void Reports_what_lstat_says_and_never_follows_links()
    {
        _files.File("dir/file", "hello").Mode("dir/file", "4755")
            .Symlink("etc", "/etc").Symlink("dir/up", "../dir");

        var entries = Walk().ToDictionary(e => e.Path);

        var file = entries["dir/file"];
        Assert.Equal(EntryType.File, file.Type);
        Assert.Equal(5, file.Status.Size);
        Assert.Equal(0x9ED /* 04755 */, (int)file.Status.Mode);
        Assert.NotEqual(0UL, file.Status.Inode);
        Assert.NotEqual(0L, file.Status.MtimeNs);
        Assert.NotEqual(0L, file.Status.CtimeNs);
        Assert.Null(file.LinkTarget);

        Assert.Equal(EntryType.Symlink, entries["etc"].Type);
        Assert.Equal("/etc", entries["etc"].LinkTarget);
        Assert.Equal("../dir", entries["dir/up"].LinkTarget);
        Assert.DoesNotContain(entries.Keys, path => path.StartsWith("etc/") || path.StartsWith("dir/up/"));
    }

    [Fact]
    public void Hard_links_share_an_inode()
    {
        _files.File("original", "x");
        System.Diagnostics.Process.Start("ln", [_files.PathOf("original"), _files.PathOf("second")])!.WaitForExit();

        var entries = Walk().ToDictionary(e => e.Path);

        Assert.Equal(entries["original"].Status.Inode, entries["second"].Status.Inode);
    }

    [Fact]
    public void Reports_fifos_and_sockets_without_opening_them()
    {
        _files.Fifo("pipe").Socket("sock");

        var entries = Walk().ToDictionary(e => e.Path);

        Assert.Equal(EntryType.Fifo, entries["pipe"].Type);
        Assert.Equal(EntryType.Socket, entries["sock"].Type);
    }

    [Fact]
    public void Skips_excluded_paths_and_never_enters_excluded_directories()
    {
        _files.File("app.cs", "").File("secret.key", "").File("build/out.dll", "").File("build/deep/x", "");
        var filter = new PrefixFilter(["secret.key", "build"]);

        Assert.Equal(["app.cs"], WalkPaths(filter));
        Assert.DoesNotContain(filter.Asked, path => path.StartsWith("build/"));
    }

    [Fact]
    public void Descends_into_excluded_directories_for_exceptions_and_reports_their_parents()
    {
        _files.File("node_modules/left-pad/index.js", "")
            .File("node_modules/keep/lib/a.js", "")
            .File("node_modules/keep/b.js", "")
            .File("node_modules/empty-handed/x", "")
            .File("main.js", "");
        var filter = new PrefixFilter(["node_modules"], reincluded: ["node_modules/keep"]);

        Assert.Equal(
            ["main.js", "node_modules", "node_modules/keep", "node_modules/keep/b.js", "node_modules/keep/lib", "node_modules/keep/lib/a.js"],
            WalkPaths(filter));
        Assert.DoesNotContain(filter.Asked, path => path.StartsWith("node_modules/left-pad/"));
    }

    [Fact]
    public void An_excluded_directory_with_nothing_reincluded_is_not_reported()
    {
        _files.File("logs/today.log", "").File("readme", "");
        var filter = new PrefixFilter(["logs"], reincluded: ["logs/keep.log"]);

        Assert.Equal(["readme"], WalkPaths(filter));
    }
}
