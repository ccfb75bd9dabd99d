using Builder.Core.Oci;

namespace Builder.Core.Tests.Oci;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("hello", "docker.io/library/hello:latest")]
    [InlineData("hello:1.0", "docker.io/library/hello:1.0")]
    [InlineData("foo/bar:1", "docker.io/foo/bar:1")]
    [InlineData("docker.io/hello", "docker.io/library/hello:latest")]
    [InlineData("index.docker.io/foo/bar", "docker.io/foo/bar:latest")]
    [InlineData("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest")]
    [InlineData("localhost/a/b:v2", "localhost/a/b:v2")]
    [InlineData("ghcr.io/o/r_x.y-z:T_1.2-3", "ghcr.io/o/r_x.y-z:T_1.2-3")]
    [InlineData("hello@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "docker.io/library/hello@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hello:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "docker.io/library/hello:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Normalises_like_docker(string text, string expected) =>
        Assert.Equal(expected, ImageReference.Parse(text).ToString());

    [Theory]
    [InlineData("hello", "hello")]
    [InlineData("foo/bar:1", "foo/bar")]
    [InlineData("127.0.0.1:5000/x", "127.0.0.1:5000/x")]
    public void Familiar_name_drops_the_defaults(string text, string familiar) =>
        Assert.Equal(familiar, ImageReference.Parse(text).FamiliarName);

    [Theory]
    [InlineData("Hello", "must be lowercase")]
    [InlineData("foo/Bar", "must be lowercase")]
    [InlineData("", "empty")]
    [InlineData("foo:-bad", "tag")]
    [InlineData("foo:bad tag", "tag")]
    [InlineData("foo--/bar", "path component")]
    [InlineData("foo@sha256:abc", "digest")]
    [InlineData("/foo", "path component")]
    public void Rejects_invalid_names_with_a_clear_message(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ImageReference.Parse(text));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Rejects_a_tag_longer_than_128() =>
        Assert.Throws<FormatException>(() => ImageReference.Parse("foo:" + new string('a', 129)));
}
