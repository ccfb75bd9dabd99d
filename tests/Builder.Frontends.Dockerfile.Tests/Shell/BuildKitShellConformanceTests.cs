using Builder.Frontends.Dockerfile.Shell;
using Xunit.Abstractions;

namespace Builder.Frontends.Dockerfile.Tests.Shell;

/// <summary>
/// Runs BuildKit's own shell test data (shell/envVarTest and shell/wordsTest) against <see cref="ShellLexer"/>.
/// Each file is one test that checks every case and lists all failures, so one run shows the whole picture.
/// </summary>
public sealed class BuildKitShellConformanceTests(ITestOutputHelper output)
{
    private static readonly ShellEnvironment EnvVarTestEnvironment =
        ShellEnvironment.FromPairs(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]);

    [Fact]
    public void EnvVarTest_every_unix_case_expands_like_buildkit()
    {
        var lexer = new ShellLexer('\\');
        var failures = new List<string>();
        var run = 0;

        var lines = File.ReadAllLines(ConformanceFiles.Path("shell", "envVarTest"));
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith('#') || lines[i].Trim() == "")
                continue;
            var fields = lines[i].Trim().Split('|');
            Assert.True(fields.Length == 3, $"envVarTest line {i + 1} must have three fields: {lines[i]}");
            var (platform, input, expected) = (fields[0].Trim(), fields[1].Trim(), fields[2].Trim());
            if (platform == "W")
                continue; // Windows-only behaviour (case-insensitive names)

            run++;
            var actual = ExpandOrError(() => lexer.ProcessWord(input, EnvVarTestEnvironment));
            if (actual != expected)
                failures.Add($"line {i + 1}: {input} → expected [{expected}], got [{actual}]");
        }

        Report("shell envVarTest", run, failures);
    }

    [Fact]
    public void WordsTest_every_case_splits_like_buildkit()
    {
        var lexer = new ShellLexer('\\');
        var failures = new List<string>();
        var environment = new List<string>();
        var run = 0;

        var lines = File.ReadAllLines(ConformanceFiles.Path("shell", "wordsTest"));
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith('#'))
                continue;
            if (line.StartsWith("ENV "))
            {
                environment.Add(line[3..].TrimStart(' ')); // the value keeps its trailing spaces
                continue;
            }
            var fields = line.Split('|');
            Assert.True(fields.Length == 2, $"wordsTest line {i + 1} must have two fields: {line}");
            var input = fields[0].Trim();
            var expected = fields[1].TrimStart(' ').Split(',');

            run++;
            var env = ShellEnvironment.FromPairs(environment);
            string[] actual;
            try
            {
                actual = [.. lexer.ProcessWords(input, env)];
            }
            catch (ShellExpansionException)
            {
                actual = ["error"];
            }
            if (!actual.SequenceEqual(expected))
                failures.Add($"line {i + 1}: {input} → expected [{string.Join("|", expected)}], got [{string.Join("|", actual)}]");
        }

        Report("shell wordsTest", run, failures);
    }

    private static string ExpandOrError(Func<string> expand)
    {
        try
        {
            return expand();
        }
        catch (ShellExpansionException)
        {
            return "error";
        }
    }

    private void Report(string name, int run, List<string> failures)
    {
        var summary = $"{name} {run - failures.Count}/{run}";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        foreach (var failure in failures)
            output.WriteLine(failure);
        Assert.True(failures.Count == 0, $"{summary}\n{string.Join("\n", failures)}");
    }
}
