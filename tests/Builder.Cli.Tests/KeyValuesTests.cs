using Builder.Cli.Commands;

namespace Builder.Cli.Tests;

public sealed class KeyValuesTests
{
    [Fact]
    public void Later_values_win_and_a_bare_key_reads_the_environment()
    {
        var name = $"BUILDER_TEST_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(name, "from-env");
        try
        {
            var values = KeyValues.Parse(["A=1", "A=2", "B=", name, "UNSET_" + name], "--build-arg", fromEnvironment: true);
            Assert.Equal("2", values["A"]);
            Assert.Equal("", values["B"]);
            Assert.Equal("from-env", values[name]);
            Assert.False(values.ContainsKey("UNSET_" + name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Labels_need_a_value_and_no_key_may_be_empty()
    {
        Assert.Contains("expected KEY=VALUE", Assert.Throws<CliException>(() => KeyValues.Parse(["x"], "--label", fromEnvironment: false)).Message);
        Assert.Contains("the key is empty", Assert.Throws<CliException>(() => KeyValues.Parse(["=x"], "--label", fromEnvironment: false)).Message);
    }
}
