using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

public sealed class HeredocTests
{
    private static Node Only(string text) => DockerfileParser.Parse("FROM a\n" + text).Children[1];

    [Fact]
    public void Reads_the_body_with_line_endings_and_counts_its_lines()
    {
        var node = Only("RUN <<EOF\necho hi\n# not a comment\nEOF\n");
        Assert.Equal([new Heredoc("EOF", "echo hi\n# not a comment\n", Expand: true, Chomp: false)], node.Heredocs);
        Assert.Equal((2, 5), (node.StartLine, node.EndLine));
        Assert.Equal(["<<EOF"], node.Args);
    }

    [Fact]
    public void Reads_several_heredocs_on_one_line_in_order()
    {
        var node = Only("COPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n");
        Assert.Equal(["FILE1", "FILE2"], node.Heredocs.Select(h => h.Name));
        Assert.Equal(["content 1\n", "content 2\n"], node.Heredocs.Select(h => h.Content));
    }

    [Fact]
    public void Dash_form_allows_an_indented_terminator_and_keeps_tabs_in_the_body()
    {
        var node = Only("RUN <<-EOT\n\tbaz\n\tEOT\n");
        Assert.Equal(new Heredoc("EOT", "\tbaz\n", true, true), node.Heredocs[0]);
    }

    [Theory]
    [InlineData("RUN <<'EOF'\nx\nEOF\n", "EOF", false)]
    [InlineData("RUN <<\"EOF\"\nx\nEOF\n", "EOF", false)]
    [InlineData("RUN <<eo'f'\nx\neof\n", "eof", false)]
    [InlineData("RUN <<eo\\'f\nx\neo'f\n", "eo'f", true)]
    [InlineData("RUN <<  EOF\nx\nEOF\n", "EOF", true)]
    [InlineData("RUN 3<<EOF\nx\nEOF\n", "EOF", true)]
    [InlineData("RUN <<$EOF\nx\n$EOF\n", "$EOF", true)]
    public void Quoting_the_name_turns_expansion_off(string text, string name, bool expand)
    {
        var heredoc = Assert.Single(Only(text).Heredocs);
        Assert.Equal((name, expand), (heredoc.Name, heredoc.Expand));
    }

    [Theory]
    [InlineData("RUN '<<EOF'\n")]
    [InlineData("RUN \"<<EOF\"\n")]
    [InlineData("RUN [\"<<EOF\"]\n")]
    [InlineData("USER <<EOF\n")]
    public void Quoted_json_or_other_instructions_have_no_heredocs(string text) =>
        Assert.Empty(Only(text).Heredocs);

    [Fact]
    public void A_heredoc_may_be_followed_by_more_words()
    {
        var node = Only("RUN <<COMPLEX python3\nprint('hi')\nCOMPLEX\n");
        Assert.Equal("print('hi')\n", Assert.Single(node.Heredocs).Content);
    }

    [Fact]
    public void Onbuild_run_can_carry_a_heredoc()
    {
        var node = Only("ONBUILD RUN <<EOF\necho\nEOF\n");
        Assert.Equal("echo\n", Assert.Single(node.Heredocs).Content);
    }

    [Fact]
    public void An_unterminated_heredoc_is_an_error_at_its_instruction()
    {
        var e = Assert.Throws<DockerfileException>(() => DockerfileParser.Parse("FROM a\nRUN <<EOF\necho\n"));
        Assert.Equal(2, e.Location.Line);
        Assert.Contains("unterminated heredoc", e.Message);
    }
}
