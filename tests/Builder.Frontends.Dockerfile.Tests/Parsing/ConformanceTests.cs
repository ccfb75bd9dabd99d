using Builder.Frontends.Dockerfile.Parsing;
using Xunit.Abstractions;

namespace Builder.Frontends.Dockerfile.Tests.Parsing;

/// <summary>BuildKit's own parser test data, read from the shared conformance folder.</summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> TestFiles() => new(CaseNames("testfiles"));

    public static TheoryData<string> NegativeTestFiles() => new(CaseNames("testfiles-negative"));

    [Theory]
    [MemberData(nameof(TestFiles))]
    public void Testfile_dumps_exactly_its_result(string name)
    {
        var (expected, actual) = DumpCase(name);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(NegativeTestFiles))]
    public void Negative_testfile_is_rejected(string name)
    {
        var text = File.ReadAllText(Path.Combine(ConformanceData.ParserDir("testfiles-negative"), name, "Dockerfile"));
        Assert.Throws<DockerfileException>(() => DockerfileParser.Parse(text));
    }

    [Fact]
    public void Reports_conformance_counts()
    {
        var names = CaseNames("testfiles");
        var passed = names.Count(name => DumpCase(name) is var (expected, actual) && expected == actual);
        var negatives = CaseNames("testfiles-negative");
        var rejected = negatives.Count(IsRejected);
        Report($"parser testfiles {passed}/{names.Count}");
        Report($"parser testfiles-negative {rejected}/{negatives.Count}");
        Assert.Equal(names.Count, passed);
        Assert.Equal(negatives.Count, rejected);
        Assert.Equal(33, names.Count);
    }

    /// <summary>
    /// BuildKit's TestParseIncludesLineNumbers: three instructions on lines 5, 11–12 and 17–31;
    /// continuation lines and comments inside a continuation count, trailing blank lines do not.
    /// </summary>
    [Fact]
    public void Testfile_line_numbers_match_buildkit()
    {
        var text = File.ReadAllText(Path.Combine(ConformanceData.ParserDir("testfile-line"), "Dockerfile"));
        var result = DockerfileParser.Parse(text);
        var lines = result.Children.Select(n => (n.StartLine, n.EndLine)).ToArray();
        Assert.Equal([(5, 5), (11, 12), (17, 31)], lines);
        Report("parser testfile-line 3/3");
    }

    private static IReadOnlyList<string> CaseNames(string folder) =>
        Directory.GetDirectories(ConformanceData.ParserDir(folder)).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToList();

    private static (string Expected, string Actual) DumpCase(string name)
    {
        var dir = Path.Combine(ConformanceData.ParserDir("testfiles"), name);
        var expected = File.ReadAllText(Path.Combine(dir, "result"));
        try
        {
            return (expected, AstDump.Format(DockerfileParser.Parse(File.ReadAllText(Path.Combine(dir, "Dockerfile")))));
        }
        catch (DockerfileException e)
        {
            return (expected, e.Format());
        }
    }

    private static bool IsRejected(string name)
    {
        var text = File.ReadAllText(Path.Combine(ConformanceData.ParserDir("testfiles-negative"), name, "Dockerfile"));
        try
        {
            DockerfileParser.Parse(text);
            return false;
        }
        catch (DockerfileException)
        {
            return true;
        }
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
