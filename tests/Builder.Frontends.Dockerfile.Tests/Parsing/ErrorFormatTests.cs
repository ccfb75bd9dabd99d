using Builder.Cli.Commands;
using Builder.Frontends.Dockerfile.Parsing;
using DockerfileModel = Builder.Frontends.Dockerfile.Instructions.Dockerfile;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

public sealed class ErrorFormatTests
{
    [Fact]
    public void Formats_file_line_column_message_and_the_offending_line()
    {
        var e = Assert.Throws<DockerfileException>(() =>
            DockerfileModel.Parse("FROM alpine\n\n\n\n\n\n\n\n\n\n\n    RUNN make\n", "app.Dockerfile"));
        Assert.Equal(new Location("app.Dockerfile", 12, 5), e.Location);
        Assert.Equal("app.Dockerfile:12:5: unknown instruction: RUNN (did you mean RUN?)\n 12 |     RUNN make", e.Format());
    }

    [Fact]
    public void Parser_errors_point_at_the_instruction_start()
    {
        var e = Assert.Throws<DockerfileException>(() => DockerfileParser.Parse("FROM a\nENV PATH\n"));
        Assert.Equal("Dockerfile:2:1: ENV must have two arguments\n 2 | ENV PATH", e.Format());
    }

    [Fact]
    public void Cli_prints_dump_or_formatted_error_and_exit_code()
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
