namespace Builder.Frontends.Dockerfile.Tests;

/// <summary>
/// Finds BuildKit's reference data in ../shared/conformance/buildkit next to the repository root
/// (the folder holding Builder.sln). The data is read in place, never copied into the repository.
/// </summary>
internal static class ConformanceData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string BuildKit => Path.Combine(RepoRoot, "..", "shared", "conformance", "buildkit");

    public static string ParserDir(string name) => Path.Combine(BuildKit, "parser", name);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Builder.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Builder.sln above {AppContext.BaseDirectory}");
    }
}
