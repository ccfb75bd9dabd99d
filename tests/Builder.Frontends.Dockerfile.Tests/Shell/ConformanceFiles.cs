namespace Builder.Frontends.Dockerfile.Tests.Shell;

/// <summary>
/// Finds BuildKit's reference data, which lives outside the repository at
/// <c>../shared/conformance/buildkit/</c> relative to the repository root.
/// </summary>
internal static class ConformanceFiles
{
    public static string Path(params string[] relative) =>
        System.IO.Path.Combine([RepositoryRoot(), "..", "shared", "conformance", "buildkit", .. relative]);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Builder.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Builder.sln above {AppContext.BaseDirectory}");
    }
}
