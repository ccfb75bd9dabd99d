using Builder.Core.Context;
using Builder.Core.Graph;
using Builder.Core.State;

namespace Builder.Core.Tests.Context;

public sealed class ContextChecksummerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ContextFiles _files;

    public ContextChecksummerTests()
    {
        _files = new ContextFiles(_dir.Combine("context"));
        _files.Dir("");
    }

    public void Dispose()
    {
        _files.Dispose();
        _dir.Dispose();
    }

    /// <summary>A fresh checksummer: checksums are remembered per instance, so each look at changed files needs a new one.</summary>
    private ContextChecksummer Checksummer(IPathFilter? filter = null) => new(_files.Root, filter ?? IncludeEverything.Instance);

    private Task<Digest> ChecksumAsync(string path, IPathFilter? filter = null, bool wildcard = false) =>
        Checksummer(filter).ChecksumAsync(path, wildcard, CancellationToken.None);

    [Fact]
    public async Task Touching_a_file_changes_nothing()
    {
        _files.File("dir/app.cs", "class App {}");
        var file = await ChecksumAsync("dir/app.cs");
        var root = await ChecksumAsync(".");

        _files.Touch("dir/app.cs", new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        System.IO.Directory.SetLastWriteTimeUtc(_files.PathOf("dir"), new DateTime(2002, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal(file, await ChecksumAsync("dir/app.cs"));
        Assert.Equal(root, await ChecksumAsync("."));
    }

    [Fact]
    public async Task Content_changes_the_file_its_directories_and_the_root()
    {
        _files.File("dir/app.cs", "class App {}").File("other", "x");
        var before = await ChecksumOfEachAsync("dir/app.cs", "dir", ".", "other");

        _files.File("dir/app.cs", "class App { }");
        var after = await ChecksumOfEachAsync("dir/app.cs", "dir", ".", "other");

        Assert.NotEqual(before["dir/app.cs"], after["dir/app.cs"]);
        Assert.NotEqual(before["dir"], after["dir"]);
        Assert.NotEqual(before["."], after["."]);
        Assert.Equal(before["other"], after["other"]);
    }

    [Theory]
    [InlineData("600")]
    [InlineData("u+s")]
    [InlineData("g+s")]
    [InlineData("+t")]
    public async Task Mode_bits_change_the_checksum(string chmod)
    {
        _files.File("run.sh", "#!/bin/sh").Mode("run.sh", "644");
        var before = await ChecksumAsync("run.sh");

        _files.Mode("run.sh", chmod);

        Assert.NotEqual(before, await ChecksumAsync("run.sh"));
    }

    [Fact]
    public async Task Owner_changes_the_checksum()
    {
        if (!ContextFiles.RunningAsRoot) return; // chown needs root; CI runs as root (xunit 2 has no runtime skip)
        _files.File("data", "x").Owner("data", 0, 0);
        var before = await ChecksumAsync("data");

        _files.Owner("data", 1000, 0);
        var newUser = await ChecksumAsync("data");
        _files.Owner("data", 1000, 1000);

        Assert.NotEqual(before, newUser);
        Assert.NotEqual(newUser, await ChecksumAsync("data"));
    }

    [Fact]
    public async Task A_symlink_is_checksummed_as_a_link_never_followed()
    {
        _files.Symlink("passwd", "/etc/passwd").Symlink("group", "/etc/group");
        var other = new ContextFiles(_dir.Combine("other"));
        other.Dir("").File("etc/passwd", "not the host's").Symlink("passwd", "/etc/passwd");

        var link = await ChecksumAsync("passwd");

        // Same link, another context whose /etc/passwd (inside it) differs from the host's: same checksum.
        Assert.Equal(link, await new ContextChecksummer(other.Root, IncludeEverything.Instance).ChecksumAsync("passwd", false, CancellationToken.None));
        Assert.NotEqual(link, await ChecksumAsync("group"));

        _files.Delete("passwd").Symlink("passwd", "/etc/shadow");
        Assert.NotEqual(link, await ChecksumAsync("passwd"));
    }

    [Fact]
    public async Task Links_inside_a_path_resolve_inside_the_root()
    {
        _files.File("etc/passwd", "the context's own").Symlink("escape", "/").Symlink("up", "../../..");

        var inside = await ChecksumAsync("etc/passwd");

        Assert.Equal(inside, await ChecksumAsync("escape/etc/passwd"));
        Assert.Equal(inside, await ChecksumAsync("up/etc/passwd"));
        await Assert.ThrowsAsync<FileNotFoundException>(() => ChecksumAsync("escape/etc/shadow"));
    }

    [Fact]
    public async Task A_link_loop_is_an_error_not_a_hang()
    {
        _files.Symlink("a", "b").Symlink("b", "a");

        var error = await Assert.ThrowsAsync<IOException>(() => ChecksumAsync("a/x"));

        Assert.Contains("too many levels of symbolic links", error.Message);
        // The loop itself is just two links.
        await ChecksumAsync(".");
    }

    [Theory]
    [InlineData("../src/a", "src/a")]
    [InlineData("/src/a", "src/a")]
    [InlineData("./src//a/", "src/a")]
    [InlineData("src/../../src/a", "src/a")]
    [InlineData("..", ".")]
    [InlineData("/", ".")]
    [InlineData("", ".")]
    public async Task Paths_are_clamped_inside_the_root(string asWritten, string meaning)
    {
        _files.File("src/a", "a").File("b", "b");

        Assert.Equal(await ChecksumAsync(meaning), await ChecksumAsync(asWritten));
    }

    [Fact]
    public async Task A_missing_path_is_named_in_the_error()
    {
        _files.File("present", "");

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => ChecksumAsync("../missing.txt"));

        Assert.Contains("\"../missing.txt\"", error.Message);
        Assert.Contains("not found", error.Message);
        await Assert.ThrowsAsync<FileNotFoundException>(() => ChecksumAsync("present/below"));
    }

    [Fact]
    public async Task Excluded_paths_are_not_in_the_context()
    {
        _files.File("app.cs", "x").File("secret.key", "1").File("node_modules/keep/a.js", "a").File("node_modules/drop/b.js", "b");
        var filter = new PrefixFilter(["secret.key", "node_modules"], reincluded: ["node_modules/keep"]);
        var root = await ChecksumAsync(".", filter);

        await Assert.ThrowsAsync<FileNotFoundException>(() => ChecksumAsync("secret.key", filter));
        await Assert.ThrowsAsync<FileNotFoundException>(() => ChecksumAsync("node_modules/drop/b.js", filter));
        Assert.Equal(await ChecksumAsync("node_modules/keep/a.js"), await ChecksumAsync("node_modules/keep/a.js", filter));

        // Changes to what is excluded never change the checksum.
        _files.File("secret.key", "2").File("node_modules/drop/b.js", "changed");
        Assert.Equal(root, await ChecksumAsync(".", filter));
        _files.File("node_modules/keep/a.js", "changed");
        Assert.NotEqual(root, await ChecksumAsync(".", filter));
    }

    [Fact]
    public async Task Wildcards_cover_exactly_their_matches()
    {
        _files.File("a.txt", "a").File("b.txt", "b").File("c.md", "c").File("docs/x/readme.txt", "r").File("docs/y/readme.md", "m");
        var txt = await ChecksumAsync("*.txt", wildcard: true);

        Assert.Equal(txt, await ChecksumAsync("[ab].txt", wildcard: true));
        Assert.Equal(txt, await ChecksumAsync("../?.txt", wildcard: true));
        Assert.NotEqual(txt, await ChecksumAsync("a*.txt", wildcard: true));
        Assert.NotEqual(await ChecksumAsync("docs/*/readme.txt", wildcard: true), await ChecksumAsync("docs/*/readme.*", wildcard: true));

        _files.File("c.md", "changed");
        Assert.Equal(txt, await ChecksumAsync("*.txt", wildcard: true));
        _files.File("b.txt", "changed");
        Assert.NotEqual(txt, await ChecksumAsync("*.txt", wildcard: true));
    }

    [Fact]
    public async Task A_wildcard_without_matches_has_the_empty_digest_and_a_plain_path_is_a_plain_path()
    {
        _files.File("a.txt", "a").File("star*", "literal");

        Assert.Equal(ContextChecksummer.NoMatch, await ChecksumAsync("*.go", wildcard: true));
        Assert.Equal(await ChecksumAsync("a.txt"), await ChecksumAsync("a.txt", wildcard: true));
        Assert.Equal(await ChecksumAsync("star\\*", wildcard: true), await ChecksumAsync("star*", wildcard: true));
        // Without wildcards allowed, '*' is just a character.
        Assert.NotEqual(ContextChecksummer.NoMatch, await ChecksumAsync("star*"));
        await Assert.ThrowsAsync<FormatException>(() => ChecksumAsync("[a", wildcard: true));
    }

    [Fact]
    public async Task Special_files_are_checksummed_without_being_opened()
    {
        _files.File("a", "a").Fifo("pipe").Socket("sock");

        var root = await ChecksumAsync(".");

        _files.Delete("pipe");
        Assert.NotEqual(root, await ChecksumAsync("."));
    }

    [Fact]
    public async Task Concurrent_checksums_agree_with_sequential_ones()
    {
        for (var i = 0; i < 40; i++) _files.File($"d{i % 4}/f{i}", new string('x', i * 100));
        var paths = Enumerable.Range(0, 40).Select(i => $"d{i % 4}/f{i}").Concat(["d0", "d1", "d2", "d3", "."]).ToList();
        var sequential = await ChecksumOfEachAsync([.. paths]);

        var shared = Checksummer();
        var concurrent = await Task.WhenAll(paths.Select(path => Task.Run(() => shared.ChecksumAsync(path, false, CancellationToken.None))));

        Assert.Equal(paths.Select(path => sequential[path]), concurrent);
    }

    private async Task<Dictionary<string, Digest>> ChecksumOfEachAsync(params string[] paths)
    {
        var result = new Dictionary<string, Digest>();
        foreach (var path in paths) result[path] = await ChecksumAsync(path);
        return result;
    }
}
