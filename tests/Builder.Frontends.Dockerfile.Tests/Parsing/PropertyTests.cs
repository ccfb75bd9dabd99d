using Builder.Frontends.Dockerfile.Parsing;
using CsCheck;
using DockerfileModel = Builder.Frontends.Dockerfile.Instructions.Dockerfile;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

/// <summary>Whatever the input, the frontend either parses it or throws a DockerfileException.</summary>
public sealed class PropertyTests
{
    private static readonly string[] Fragments =
    [
        "FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "LABEL ", "ARG ", "ONBUILD ", "HEALTHCHECK ", "CMD ", "SHELL ",
        "EXPOSE ", "VOLUME ", "USER ", "WORKDIR ", "STOPSIGNAL ", "MAINTAINER ", "ENTRYPOINT ", "AS ", "NONE ",
        "--mount=type=cache", "--from=x", "--link", "--interval=", "--retries=", "--", "-", "=", "a", "b c", "1s", "80/tcp",
        "\\", "\\\n", "`", "`\n", "\n", "\r\n", "\t", " ", "#", "# escape=`\n", "# syntax=x\n", "\"", "'", "<<", "<<-",
        "<<EOF", "<<'EOF'", "EOF", "\n\tEOF\n", "[", "]", "[\"a\"]", "[1]", ",", "{", "}", "$", "${A}", "\u00a0", "\0",
    ];

    private static readonly Gen<string> DockerfileIsh =
        Gen.OneOf<string>(Gen.OneOf(Fragments), Gen.String[0, 3]).Array[0, 40].Select(string.Concat);

    [Fact]
    public void Arbitrary_strings_never_throw_anything_but_dockerfile_exceptions() =>
        Gen.String[0, 200].Sample(ParseBothLevels, iter: 3000);

    [Fact]
    public void Dockerfile_like_strings_never_throw_anything_but_dockerfile_exceptions() =>
        DockerfileIsh.Sample(ParseBothLevels, iter: 5000);

    [Fact]
    public void Parsed_dumps_are_stable_under_reparsing_of_the_same_text() =>
        DockerfileIsh.Sample(text =>
        {
            string? first = null;
            try
            {
                first = AstDump.Format(DockerfileParser.Parse(text));
            }
            catch (DockerfileException)
            {
            }
            if (first is not null)
            {
                Assert.Equal(first, AstDump.Format(DockerfileParser.Parse(text)));
            }
        }, iter: 500);

    private static void ParseBothLevels(string text)
    {
        try
        {
            var ast = DockerfileParser.Parse(text);
            _ = AstDump.Format(ast);
            _ = DockerfileModel.FromAst(ast);
        }
        catch (DockerfileException e)
        {
            _ = e.Format();
        }
    }
}
