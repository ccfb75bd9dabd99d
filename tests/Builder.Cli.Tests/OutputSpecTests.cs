using Builder.Cli.Commands;

namespace Builder.Cli.Tests;

public sealed class OutputSpecTests
{
    [Fact]
    public void Parses_type_and_attributes_as_buildx_does()
    {
        var spec = OutputSpec.Parse("type=oci,dest=out.tar,name=\"a,b\"");
        Assert.Equal("oci", spec.Type);
        Assert.Equal("out.tar", spec.Dest);
        Assert.Equal("a,b", spec.Attributes["name"]);
    }

    [Fact]
    public void A_bare_path_is_a_local_output() =>
        Assert.Equal(new[] { "local", "some/dir" }, new[] { OutputSpec.Parse("some/dir").Type, OutputSpec.Parse("some/dir").Dest });

    [Theory]
    [InlineData("type=bogus,dest=x", "unknown type \"bogus\"")]
    [InlineData("dest=x", "type is required")]
    [InlineData("type=oci", "needs dest=PATH")]
    [InlineData("type=oci,dest", "is not key=value")]
    [InlineData("type=oci,dest=\"x", "unterminated quote")]
    public void Rejects_what_it_cannot_honour(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => OutputSpec.Parse(text)).Message);
}
