using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

public sealed class ParserBehaviourTests
{
    [Fact]
    public void Instruction_names_are_case_insensitive_and_dumped_lowercase()
    {
        var result = DockerfileParser.Parse("from a\nRuN echo\n");
        Assert.Equal("(from \"a\")\n(run \"echo\")\n", AstDump.Format(result));
        Assert.Equal("RuN", result.Children[1].Keyword);
    }

    [Fact]
    public void Exec_form_sets_json_and_invalid_json_falls_back_to_shell_form()
    {
        var result = DockerfileParser.Parse("CMD [\"a\", \"b\"]\nCMD [\"a\", b]\n");
        Assert.True(result.Children[0].IsJson);
        Assert.False(result.Children[1].IsJson);
        Assert.Equal(["[\"a\", b]"], result.Children[1].Args);
    }

    [Fact]
    public void A_json_array_of_non_strings_is_rejected()
    {
        var e = Assert.Throws<DockerfileException>(() => DockerfileParser.Parse("FROM a\nCMD [\"a\", 1]\n"));
        Assert.Equal((2, 1), (e.Location.Line, e.Location.Column));
    }

    [Fact]
    public void Comments_and_blank_lines_inside_a_continuation_are_dropped_with_a_warning()
    {
        var result = DockerfileParser.Parse("RUN a \\\n# comment\n\n  b\n");
        Assert.Equal(["a   b"], result.Children[0].Args);
        Assert.Equal((1, 4), (result.Children[0].StartLine, result.Children[0].EndLine));
        Assert.Contains(result.Warnings, w => w.Contains("Empty continuation line"));
    }

    [Fact]
    public void Onbuild_nests_its_trigger()
    {
        var result = DockerfileParser.Parse("ONBUILD ONBUILD RUN --mount=x echo\n");
        Assert.Equal("(onbuild (onbuild (run [\"--mount=x\"] \"echo\")))\n", AstDump.Format(result));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n\n")]
    public void A_file_without_instructions_is_rejected(string text) =>
        Assert.Throws<DockerfileException>(() => DockerfileParser.Parse(text));

    [Theory]
    [InlineData("a\u00a0b", "\"a\\u00a0b\"")]
    [InlineData("\u0001\u007f", "\"\\x01\\x7f\"")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("é☃", "\"é☃\"")]
    [InlineData("\u200b", "\"\\u200b\"")]
    [InlineData("\U0001F600", "\"\U0001F600\"")]
    [InlineData("\U000E0001", "\"\\U000e0001\"")]
    public void Strings_are_quoted_like_go_strconv_quote(string value, string quoted) =>
        Assert.Equal(quoted, GoQuote.Quote(value));
}
