using System.Diagnostics;

namespace Builder.Integration.Tests.Infrastructure;

/// <summary>Where the repository and the files tests use are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    /// <summary>
    /// Names a builder executable to test instead of builder.dll: scripts/test sets it to the
    /// Native AOT binary it publishes, so the suite exercises what is shipped, not only the JIT build.
    /// </summary>
    public const string TestBinVariable = "BUILDER_TEST_BIN";

    public static string Root { get; } = FindRoot();

    public static string Testdata => Path.Combine(Root, "testdata");

    /// <summary>builder.dll, copied next to the tests by the project reference to Builder.Cli.</summary>
    public static string BuilderDll => Path.Combine(AppContext.BaseDirectory, "builder.dll");

    /// <summary>The executable of <see cref="TestBinVariable"/>, or null when builder.dll is tested.</summary>
    public static string? TestBin { get; } = FindTestBin();

    /// <summary>How to run builder with <paramref name="args"/>: the test binary itself, or <c>dotnet exec builder.dll</c>.</summary>
    public static ProcessStartInfo BuilderStartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(TestBin ?? "dotnet") { UseShellExecute = false };
        if (TestBin is null)
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(BuilderDll);
        }
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    private static string? FindTestBin()
    {
        var path = Environment.GetEnvironmentVariable(TestBinVariable);
        if (string.IsNullOrEmpty(path)) return null;
        // A wrong path must fail loudly: falling back to builder.dll would test something else unnoticed.
        return File.Exists(path)
            ? Path.GetFullPath(path)
            : throw new InvalidOperationException($"{TestBinVariable}={path}: no such file");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Builder.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Builder.sln above {AppContext.BaseDirectory}");
    }
}
