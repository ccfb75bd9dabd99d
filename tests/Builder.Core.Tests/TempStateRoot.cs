using Builder.Core.State;

namespace Builder.Core.Tests;

/// <summary>A fresh state root in a temp directory, deleted when the test ends.</summary>
public sealed class TempStateRoot : IDisposable
{
    public TempStateRoot()
    {
        Root = new StateRoot(Path.Combine(Path.GetTempPath(), "builder-test-" + Guid.NewGuid().ToString("N")));
        Root.EnsureCreated();
    }

    public StateRoot Root { get; }

    /// <summary>A scratch directory inside the root for a test's own files.</summary>
    public string Scratch(string name)
    {
        var path = Path.Combine(Root.Path, "scratch", name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root.Path, recursive: true); }
        catch (IOException) { /* best effort: a leftover temp dir must not fail a test */ }
    }
}
