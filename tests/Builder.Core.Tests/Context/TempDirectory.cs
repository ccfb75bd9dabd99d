namespace Builder.Core.Tests.Context;

/// <summary>A fresh directory under /tmp, deleted with everything in it when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("builder-test-").FullName;
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a test that failed half-way may leave odd files; /tmp is cleaned anyway */ }
        catch (UnauthorizedAccessException) { }
    }
}
