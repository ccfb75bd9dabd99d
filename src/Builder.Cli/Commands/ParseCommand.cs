using System.CommandLine;
using Builder.Frontends.Dockerfile;
using Builder.Frontends.Dockerfile.Instructions;
using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Cli.Commands;

/// <summary><c>builder parse [-f FILE | FILE]</c>: prints a Dockerfile's AST in BuildKit's dump format.</summary>
public static class ParseCommand
{
    public static Command Create()
    {
        var fileOption = new Option<string?>("--file", "-f") { Description = "Path to the Dockerfile (default: ./Dockerfile)" };
        var fileArgument = new Argument<string?>("FILE")
        {
            Description = "Path to the Dockerfile",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var checkOption = new Option<bool>("--check")
        {
            Description = "Also validate every instruction (flags, arguments, stages), as a build would",
        };
        var command = new Command("parse", "Parse a Dockerfile and print its syntax tree");
        command.Options.Add(fileOption);
        command.Options.Add(checkOption);
        command.Arguments.Add(fileArgument);
        command.SetAction(result =>
            Run(result.GetValue(fileOption) ?? result.GetValue(fileArgument) ?? "Dockerfile", result.GetValue(checkOption),
                Console.Out, Console.Error));
        return command;
    }

    /// <summary>Prints the dump to <paramref name="output"/>; user errors go to <paramref name="error"/> with exit code 1.</summary>
    public static int Run(string path, bool check, TextWriter output, TextWriter error)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"builder: cannot read {path}: {e.Message}");
            return 1;
        }
        try
        {
            var ast = DockerfileParser.Parse(text, Path.GetFileName(path));
            if (check)
            {
                Dockerfile.FromAst(ast);
            }
            output.Write(AstDump.Format(ast));
            return 0;
        }
        catch (DockerfileException e)
        {
            error.WriteLine(e.Format());
            return 1;
        }
    }
}
