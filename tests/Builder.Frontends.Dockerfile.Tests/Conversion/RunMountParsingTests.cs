using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Frontends.Dockerfile.Tests.Conversion;

public sealed class RunMountParsingTests
{
    private static RunMount Parse(string text) => RunMount.Parse(text, v => v);

    [Fact]
    public void Fields_are_csv_so_a_quoted_value_may_hold_commas()
    {
        var mount = Parse("type=bind,\"source=a,b\",target=/x");
        Assert.Equal(("a,b", "/x"), (mount.Source, mount.Target));
    }

    [Theory]
    [InlineData("type=bind,target=/x", true)]
    [InlineData("type=bind,target=/x,rw", false)]
    [InlineData("type=bind,target=/x,readwrite=true", false)]
    [InlineData("type=cache,target=/x", false)]
    [InlineData("type=cache,target=/x,ro", true)]
    [InlineData("type=tmpfs,target=/x", false)]
    [InlineData("type=secret,id=a", true)]
    public void Read_only_defaults_by_type(string text, bool readOnly) => Assert.Equal(readOnly, Parse(text).ReadOnly);

    [Theory]
    [InlineData("100", 100L)]
    [InlineData("64m", 64L << 20)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("512KiB", 512L << 10)]
    [InlineData("2 MB", 2L << 20)]
    public void Tmpfs_sizes_are_dockers_binary_units(string size, long bytes) => Assert.Equal(bytes, RunMount.ParseSize("size", size));

    [Fact]
    public void Aliases_name_the_same_fields()
    {
        var mount = Parse("type=cache,src=/s,dst=/d,id=x,uid=5,gid=6,mode=0750");
        Assert.Equal(("/s", "/d", "x", 5, 6, Convert.ToInt32("750", 8)), (mount.Source, mount.Target, mount.Id, mount.Uid, mount.Gid, mount.Mode));
        Assert.Equal("/t", Parse("destination=/t").Target);
    }

    [Fact]
    public void Values_are_expanded_but_bare_flags_are_not()
    {
        var mount = RunMount.Parse("type=secret,id=$ID,required", v => v.Replace("$ID", "token"));
        Assert.Equal(("token", true), (mount.Id, mount.Required));
    }
}
