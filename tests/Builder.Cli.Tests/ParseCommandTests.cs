using Builder.Cli.Commands;

namespace Builder.Cli.Tests;

public sealed class ParseCommandTests
{
    [Fact]
    public void Prints_the_dump_or_the_formatted_error_with_exit_code_1()
    {
        var path = Path.Combine(Path.GetTempPath(), $"builder-parse-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(path, "FROM a\nRUNN x\n");
            var (output, error) = (new StringWriter(), new StringWriter());
            Assert.Equal(0, ParseCommand.Run(path, check: false, output, error));
            Assert.Equal("(from \"a\")\n(runn)\n", output.ToString());

            output = new StringWriter();
            Assert.Equal(1, ParseCommand.Run(path, check: true, output, error));
            Assert.StartsWith($"{Path.GetFileName(path)}:2:1: unknown instruction: RUNN (did you mean RUN?)", error.ToString());
            Assert.DoesNotContain("   at ", error.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
