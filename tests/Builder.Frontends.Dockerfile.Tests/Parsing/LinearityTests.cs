using Builder.Frontends.Dockerfile.Parsing;
using DockerfileModel = Builder.Frontends.Dockerfile.Instructions.Dockerfile;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

/// <summary>
/// Guards against recursion that grows with the input: pathological lines must parse (or be
/// rejected cleanly) without overflowing the stack. Not timing based.
/// </summary>
public sealed class LinearityTests
{
    private const int Size = 100_000;

    public static TheoryData<string> PathologicalLines() => new(
        "RUN " + new string('\\', Size),
        "RUN " + string.Concat(Enumerable.Repeat("\\\"", Size / 2)),
        "RUN " + string.Concat(Enumerable.Repeat("'\"", Size / 2)),
        "ENV a=" + string.Concat(Enumerable.Repeat("\\\"'", Size / 3)),
        "LABEL " + string.Concat(Enumerable.Repeat("k=\"v\" ", Size / 6)),
        "CMD " + new string('[', Size),
        "CMD " + new string('[', Size) + new string(']', Size),
        "COPY " + string.Concat(Enumerable.Repeat("--a=\"b\\ ", Size / 8)) + " x y",
        "RUN " + string.Concat(Enumerable.Repeat("<<EOF ", Size / 6)),
        string.Concat(Enumerable.Repeat("ONBUILD ", Size / 8)) + "RUN x",
        "RUN a" + string.Concat(Enumerable.Repeat(" \\\n", Size / 3)),
        new string('x', Size));

    [Theory]
    [MemberData(nameof(PathologicalLines))]
    public void Pathological_line_parses_without_stack_overflow(string line)
    {
        var text = "FROM a\n" + line + "\n";
        try
        {
            var ast = DockerfileParser.Parse(text);
            Assert.NotEmpty(AstDump.Format(ast));
            DockerfileModel.FromAst(ast);
        }
        catch (DockerfileException)
        {
            // rejecting is fine; crashing is not
        }
    }
}
