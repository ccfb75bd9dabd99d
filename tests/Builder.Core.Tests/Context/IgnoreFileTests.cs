using Builder.Core.Context;

namespace Builder.Core.Tests.Context;

public sealed class IgnoreFileTests : IDisposable
{
    private readonly string _context = Directory.CreateTempSubdirectory("ignorefile-").FullName;

    public void Dispose() => Directory.Delete(_context, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_context, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void No_ignore_file_means_nothing_is_excluded()
    {
        var dockerfile = Write("Dockerfile", "FROM scratch");
        Assert.Null(IgnoreFile.Locate(_context, dockerfile));
        Assert.Same(IgnorePatterns.None, IgnoreFile.Load(_context, dockerfile));
    }

    [Fact]
    public void Context_root_dockerignore_is_used_by_default()
    {
        var dockerfile = Write("Dockerfile", "FROM scratch");
        var ignore = Write(".dockerignore", "*.log");
        Assert.Equal(ignore, IgnoreFile.Locate(_context, dockerfile));
        Assert.True(IgnoreFile.Load(_context, dockerfile).IsExcluded("a.log"));
    }

    [Fact]
    public void Dockerfile_specific_ignore_file_wins_even_when_empty()
    {
        var dockerfile = Write("build/app.Dockerfile", "FROM scratch");
        Write(".dockerignore", "*.log");
        var specific = Write("build/app.Dockerfile.dockerignore", "");
        Assert.Equal(specific, IgnoreFile.Locate(_context, dockerfile));
        Assert.False(IgnoreFile.Load(_context, dockerfile).IsExcluded("a.log"));
    }

    [Fact]
    public void Dockerfile_from_stdin_uses_the_context_file()
    {
        var ignore = Write(".dockerignore", "x");
        Assert.Equal(ignore, IgnoreFile.Locate(_context, dockerfilePath: null));
    }

    [Fact]
    public void Errors_name_the_file_and_line()
    {
        Write(".dockerignore", "ok\n[bad");
        var error = Assert.Throws<IgnorePatternException>(() => IgnoreFile.Load(_context, null));
        Assert.Equal(2, error.LineNumber);
        Assert.Contains(Path.Combine(_context, ".dockerignore") + ":2: invalid pattern \"[bad\"", error.Message);
    }
}
