namespace Builder.Integration.Tests.Infrastructure;

/// <summary>A directory for one test, removed afterwards (unmounting nothing: a test that leaves a mount has failed).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "builder-it")
    {
        // /var/tmp rather than /tmp: overlay upper dirs need a filesystem with xattrs and d_type.
        Path = System.IO.Path.Combine("/var/tmp", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string Write(string relative, string content)
    {
        var file = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        return file;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
