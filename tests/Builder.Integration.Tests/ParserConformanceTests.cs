using Builder.Cli.Commands;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>
/// The parser in the executable under test parses BuildKit's reference Dockerfiles exactly as the
/// parser run by the JIT in this process does. The shipped binary is compiled ahead of time, where
/// a generic instantiation the compiler did not foresee fails only at run time, and the parser is
/// the most generic-heavy code there is (Pidgin combinators); this runs all of it over real data.
/// </summary>
public sealed class ParserConformanceTests
{
    // ../shared next to the repository root; the data is read in place, never copied into the repository.
    private static readonly string ParserData = Path.Combine(RepoPaths.Root, "..", "shared", "conformance", "buildkit", "parser");

    [Fact]
    public async Task The_executable_parses_every_reference_dockerfile_as_the_jit_parser_does()
    {
        var files = Directory.GetFiles(ParserData, "Dockerfile", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var cli = new BuilderCli(Path.Combine(Path.GetTempPath(), "builder-parse-unused-root"));

        var accepted = 0;
        var differences = new List<string>();
        foreach (var file in files)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var expectedExit = ParseCommand.Run(file, check: true, stdout, stderr);
            if (expectedExit == 0) accepted++;

            var actual = await cli.RunAsync("parse", "--check", file);
            if (actual.ExitCode != expectedExit || actual.Stdout != stdout.ToString() || actual.Stderr != stderr.ToString())
            {
                differences.Add($"{Path.GetRelativePath(ParserData, file)}: expected exit {expectedExit}\n{stdout}{stderr}\n" +
                    $"got exit {actual.ExitCode}\n{actual.Output}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n\n", differences));
        // The reference set is mostly valid Dockerfiles; if the JIT parser accepted none, nothing was compared.
        Assert.True(accepted >= files.Count / 2, $"the JIT parser accepted only {accepted} of {files.Count} files");
    }
}
