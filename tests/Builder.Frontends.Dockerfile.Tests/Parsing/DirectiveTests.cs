using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

public sealed class DirectiveTests
{
    [Fact]
    public void Reads_syntax_escape_and_check_at_the_top_with_any_key_case()
    {
        var result = DockerfileParser.Parse("# SYNTAX = docker/dockerfile:1\n#Escape=`\n# check=skip=all\nFROM a\n");
        Assert.Equal(
            [new ParserDirective("syntax", "docker/dockerfile:1", 1), new ParserDirective("escape", "`", 2), new ParserDirective("check", "skip=all", 3)],
            result.Directives);
        Assert.Equal('`', result.EscapeToken);
    }

    [Fact]
    public void Escape_directive_changes_the_continuation_character()
    {
        var result = DockerfileParser.Parse("# escape=`\nRUN echo a `\n  b\n");
        Assert.Equal(["echo a   b"], result.Children[0].Args);
    }

    [Theory]
    [InlineData("# comment\n# escape=`\nRUN a `\nb\n")]
    [InlineData("\n# escape=`\nRUN a `\nb\n")]
    [InlineData("FROM x\n# escape=`\nRUN a `\nb\n")]
    [InlineData("# unknown=1\n# escape=`\nRUN a `\nb\n")]
    public void Directives_after_anything_else_are_plain_comments(string text)
    {
        var result = DockerfileParser.Parse(text);
        Assert.Equal('\\', result.EscapeToken);
        Assert.DoesNotContain(result.Directives, d => d.Name == "escape");
    }

    [Fact]
    public void The_first_of_repeated_directives_wins_with_a_warning()
    {
        var result = DockerfileParser.Parse("# escape=`\n# escape=\\\nRUN a `\nb\n");
        Assert.Equal('`', result.EscapeToken);
        Assert.Single(result.Directives);
        Assert.Contains(result.Warnings, w => w.Contains("only one escape parser directive"));
    }

    [Fact]
    public void An_invalid_escape_token_is_rejected_at_its_line()
    {
        var e = Assert.Throws<DockerfileException>(() => DockerfileParser.Parse("# syntax=x\n# escape=x\nFROM a\n"));
        Assert.Equal(2, e.Location.Line);
        Assert.Contains("invalid escape token 'x'", e.Message);
    }
}
