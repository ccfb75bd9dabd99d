using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>One build stage: a FROM and the instructions up to the next FROM.</summary>
/// <param name="Name">The lowercase name from <c>FROM … AS name</c>, or null.</param>
/// <param name="BaseName">The image or stage the stage starts from, raw (may hold variables).</param>
/// <param name="Platform">The raw <c>--platform</c> value, or null.</param>
/// <param name="Index">0-based position among the stages.</param>
public sealed record Stage(
    string? Name,
    string BaseName,
    string? Platform,
    int Index,
    FromInstruction From,
    IReadOnlyList<Instruction> Instructions);

/// <summary>
/// A parsed and validated Dockerfile: its parser directives, the ARGs before the first FROM
/// (meta ARGs, usable in FROM lines), and its stages.
/// </summary>
public sealed record Dockerfile(
    IReadOnlyList<ParserDirective> Directives,
    IReadOnlyList<ArgInstruction> MetaArgs,
    IReadOnlyList<Stage> Stages,
    IReadOnlyList<string> Warnings,
    char EscapeToken)
{
    /// <exception cref="DockerfileException">The text is not a valid Dockerfile.</exception>
    public static Dockerfile Parse(string text, string fileName = "Dockerfile") =>
        FromAst(DockerfileParser.Parse(text, fileName));

    /// <summary>Builds the typed model from an AST, validating every instruction.</summary>
    public static Dockerfile FromAst(ParseResult ast)
    {
        var reader = new InstructionReader(ast.Source);
        var metaArgs = new List<ArgInstruction>();
        var stages = new List<StageBuilder>();
        foreach (var node in ast.Children)
        {
            switch (reader.Read(node))
            {
                case ArgInstruction arg when stages.Count == 0:
                    metaArgs.Add(arg);
                    break;
                case FromInstruction from:
                    stages.Add(NewStage(from, stages, ast.Source));
                    break;
                case var instruction when stages.Count == 0:
                    throw ast.Source.Error(
                        $"no build stage in current context: {node.Keyword.ToUpperInvariant()} must come after FROM (only ARG may come before the first FROM)",
                        node.StartLine, node.Column);
                case var instruction:
                    stages[^1].Instructions.Add(instruction);
                    break;
            }
        }
        return new Dockerfile(ast.Directives, metaArgs, stages.Select(s => s.Build()).ToList(), ast.Warnings,
            ast.EscapeToken);
    }

    private static StageBuilder NewStage(FromInstruction from, List<StageBuilder> stages, DockerfileSource source)
    {
        if (from.StageName is { } name && stages.Any(s => s.From.StageName == name))
        {
            throw source.Error($"duplicate stage name \"{name}\"", from.Location.Line, from.Location.Column);
        }
        return new StageBuilder(from, stages.Count);
    }

    private sealed record StageBuilder(FromInstruction From, int Index)
    {
        public List<Instruction> Instructions { get; } = [];

        public Stage Build() => new(From.StageName, From.BaseName, From.Platform, Index, From, Instructions);
    }
}
