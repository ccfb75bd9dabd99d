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
}
