namespace Builder.Integration.Tests.Infrastructure;

/// <summary>Where the repository and the files tests use are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Testdata => Path.Combine(Root, "testdata");

    /// <summary>builder.dll, copied next to the tests by the project reference to Builder.Cli.</summary>
    public static string BuilderDll => Path.Combine(AppContext.BaseDirectory, "builder.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Builder.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Builder.sln above {AppContext.BaseDirectory}");
    }
}
