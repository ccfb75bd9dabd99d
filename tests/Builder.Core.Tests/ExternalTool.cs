using System.Diagnostics;

namespace Builder.Core.Tests;

/// <summary>Runs a real tool (skopeo, umoci, tar, make-layout.sh) and fails the test with its output when it fails.</summary>
public static class ExternalTool
{
    public static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        return await stdout;
    }

    /// <summary>The repository root, found from the test binary's location.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Builder.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }
}
