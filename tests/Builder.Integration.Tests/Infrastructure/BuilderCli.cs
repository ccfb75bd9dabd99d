using System.Diagnostics;

namespace Builder.Integration.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}

/// <summary>Runs the real <c>builder</c> executable as a user would, with its own state root.</summary>
public sealed class BuilderCli(string stateRoot)
{
    public string StateRoot { get; } = stateRoot;

    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>Written to the process's stdin (then closed), for <c>-f -</c>.</summary>
    public string? StandardInput { get; set; }

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, TimeSpan.FromMinutes(5));

    public async Task<CliResult> RunAsync(IReadOnlyList<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(RepoPaths.BuilderDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["BUILDER_ROOT"] = StateRoot;
        foreach (var (key, value) in Environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        if (StandardInput is not null) await process.StandardInput.WriteAsync(StandardInput);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"builder {string.Join(' ', args)} did not finish in {timeout}: {await stderr}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
