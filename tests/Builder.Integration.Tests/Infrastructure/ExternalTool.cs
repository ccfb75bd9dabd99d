using System.Diagnostics;

namespace Builder.Integration.Tests.Infrastructure;

/// <summary>Runs another program the tests check our output with (skopeo, umoci, tar) and collects what it printed.</summary>
public static class ExternalTool
{
    public static async Task<CliResult> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
