using Builder.Core.Filesystem;

namespace Builder.Core.Tests.Filesystem;

public sealed class RootedPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rootedpath-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("a/b", "a/b")]
    [InlineData("/a/./b/", "a/b")]
    [InlineData("../../a", "a")]
    [InlineData("a/../../..", "")]
    [InlineData("", "")]
    public void LexicalPathsStayInsideTheRoot(string unsafePath, string expected) =>
        Assert.Equal(Expected(expected), RootedPath.Resolve(_root, unsafePath));

    [Fact]
    public void AbsoluteLinkTargetsAreReRootedAtTheRoot()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/lib"));
        File.CreateSymbolicLink(Path.Combine(_root, "lib"), "/usr/lib");
        File.CreateSymbolicLink(Path.Combine(_root, "rootlink"), "/");

        Assert.Equal(Expected("usr/lib/x.so"), RootedPath.Resolve(_root, "lib/x.so"));
        Assert.Equal(Expected("etc/passwd"), RootedPath.Resolve(_root, "rootlink/etc/passwd"));
    }

    [Fact]
    public void RelativeLinksClimbingOutAreClampedAtTheRoot()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a/b"));
        File.CreateSymbolicLink(Path.Combine(_root, "a/b/up"), "../../../../..");

        Assert.Equal(Expected("evil"), RootedPath.Resolve(_root, "a/b/up/evil"));
    }

    [Fact]
    public void DotDotAfterALinkPopsTheLinksTargetNotTheLink()
    {
        Directory.CreateDirectory(Path.Combine(_root, "x/y"));
        File.CreateSymbolicLink(Path.Combine(_root, "link"), "x/y");

        Assert.Equal(Expected("x/z"), RootedPath.Resolve(_root, "link/../z"));
    }

    [Fact]
    public void LinkLoopsFailInsteadOfSpinning()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_root, "b"), "a");

        Assert.Throws<IOException>(() => RootedPath.Resolve(_root, "a/x"));
    }

    [Fact]
    public void ResolveParentLeavesTheLastComponentUnfollowed()
    {
        Directory.CreateDirectory(Path.Combine(_root, "real"));
        File.CreateSymbolicLink(Path.Combine(_root, "dir"), "/real");
        File.CreateSymbolicLink(Path.Combine(_root, "real/last"), "/etc");

        var parent = RootedPath.ResolveParent(_root, "dir/last");

        Assert.Equal(Expected("real"), parent.Directory);
        Assert.Equal("last", parent.Name);
        Assert.Equal(Expected("real/last"), parent.FullPath);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("a/..")]
    [InlineData(".")]
    public void ResolveParentRefusesPathsWithoutALastComponent(string unsafePath) =>
        Assert.Throws<ArgumentException>(() => RootedPath.ResolveParent(_root, unsafePath));

    private string Expected(string relative) => relative == "" ? _root : _root + "/" + relative;
}
