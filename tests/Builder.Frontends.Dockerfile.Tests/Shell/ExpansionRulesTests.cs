using Builder.Frontends.Dockerfile.Shell;

namespace Builder.Frontends.Dockerfile.Tests.Shell;

public sealed class ExpansionRulesTests
{
    [Theory]
    [InlineData("ADD"), InlineData("COPY"), InlineData("ENV"), InlineData("EXPOSE"), InlineData("FROM")]
    [InlineData("LABEL"), InlineData("STOPSIGNAL"), InlineData("USER"), InlineData("VOLUME"), InlineData("WORKDIR")]
    [InlineData("ARG"), InlineData("workdir")]
    public void Builder_expands_these_instructions(string instruction) =>
        Assert.True(ExpansionRules.ExpandsVariables(instruction));

    [Theory]
    [InlineData("RUN"), InlineData("CMD"), InlineData("ENTRYPOINT"), InlineData("SHELL"), InlineData("HEALTHCHECK")]
    [InlineData("MAINTAINER"), InlineData("ONBUILD")]
    public void The_container_shell_or_nobody_expands_these(string instruction) =>
        Assert.False(ExpansionRules.ExpandsVariables(instruction));

    [Theory]
    [InlineData("RUN", "mount", true)]
    [InlineData("RUN", "network", false)]
    [InlineData("COPY", "chown", true)]
    [InlineData("COPY", "from", false)]
    [InlineData("ADD", "checksum", true)]
    [InlineData("FROM", "platform", true)]
    public void Flags(string instruction, string flag, bool expanded) =>
        Assert.Equal(expanded, ExpansionRules.ExpandsFlag(instruction, flag));

    [Fact]
    public void Only_expose_splits_words()
    {
        Assert.True(ExpansionRules.SplitsWords("EXPOSE"));
        Assert.False(ExpansionRules.SplitsWords("VOLUME"));
    }
}
