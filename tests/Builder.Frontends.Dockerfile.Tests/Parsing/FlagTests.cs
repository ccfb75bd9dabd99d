using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

public sealed class FlagTests
{
    private static Node Second(string text) => DockerfileParser.Parse(text).Children[1];

    [Fact]
    public void Flags_keep_their_order_and_repeat()
    {
        var node = Second("FROM a\nRUN --mount=type=cache,target=/a --network=none --mount=type=tmpfs,target=/b make\n");
        Assert.Equal(["--mount=type=cache,target=/a", "--network=none", "--mount=type=tmpfs,target=/b"], node.Flags.Select(f => f.Text));
        Assert.Equal(["make"], node.Args);
    }

    [Fact]
    public void A_flag_alone_has_no_value_and_a_lone_double_dash_ends_flags()
    {
        var node = Second("FROM a\nCOPY --link -- --not-a-flag /dst\n");
        var flag = Assert.Single(node.Flags);
        Assert.Equal(("link", null), (flag.Name, flag.Value));
        Assert.Equal(["--not-a-flag", "/dst"], node.Args);
    }

    [Fact]
    public void Quotes_and_backslashes_in_flags_are_removed()
    {
        var node = Second("FROM a\nCOPY --chown=\"a b\" --from=x\\y src dst\n");
        Assert.Equal(["--chown=a b", "--from=xy"], node.Flags.Select(f => f.Text));
    }

    [Fact]
    public void Every_flag_knows_its_line_and_column_across_continuations()
    {
        var node = Second("FROM a\n  COPY --from=b \\\n    --chown=1 x y\n");
        Assert.Equal((2, 3), (node.StartLine, node.Column));
        Assert.Equal([(2, 8), (3, 5)], node.Flags.Select(f => (f.Line, f.Column)));
    }
}
