using System.Diagnostics;

namespace Builder.Integration.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}

/// <summary>Runs the real <c>builder</c> executable as a user would (see <see cref="RepoPaths.BuilderStartInfo"/>), with its own state root.</summary>
public sealed class BuilderCli(string stateRoot)
{
    public string StateRoot { get; } = stateRoot;

    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>Written to the process's stdin (then closed), for <c>-f -</c>.</summary>
    public string? StandardInput { get; set; }

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, TimeSpan.FromMinutes(5));

    public async Task<CliResult> RunAsync(IReadOnlyList<string> args, TimeSpan timeout)
    {
        using var process = Start(args);
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

    /// <summary>
    /// <c>builder build</c> of <paramref name="contextDir"/> exported as an OCI archive at <paramref name="tarPath"/>:
    /// the result, and the archive read back when the build succeeded.
    /// </summary>
    public async Task<(CliResult Result, OciArchive? Image)> BuildOciAsync(string contextDir, string tarPath, IEnumerable<string> extra)
    {
        var result = await RunAsync(["build", "--progress", "plain", "-o", $"type=oci,dest={tarPath}", .. extra, contextDir]);
        return (result, result.ExitCode == 0 ? OciArchive.Load(tarPath) : null);
    }

    /// <summary>As <see cref="BuildOciAsync"/>, failing the test with the build's output unless it succeeds.</summary>
    public async Task<(OciArchive Image, CliResult Result)> BuildOciOkAsync(string contextDir, string tarPath, IEnumerable<string> extra)
    {
        var (result, image) = await BuildOciAsync(contextDir, tarPath, extra);
        Assert.True(result.ExitCode == 0, $"build failed ({result.ExitCode}):\n{result.Output}");
        return (image!, result);
    }

    /// <summary>Starts builder with redirected output (stdin given <see cref="StandardInput"/>, then closed); the caller reads and waits.</summary>
    public Process Start(IReadOnlyList<string> args)
    {
        var start = RepoPaths.BuilderStartInfo(args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.Environment["BUILDER_ROOT"] = StateRoot;
        // Embedded unless a test points it at its daemon: a daemon on this machine's default socket must not serve tests.
        start.Environment["BUILDER_HOST"] = "embedded";
        foreach (var (key, value) in Environment) start.Environment[key] = value;

        var process = Process.Start(start)!;
        if (StandardInput is not null) process.StandardInput.Write(StandardInput);
        process.StandardInput.Close();
        return process;
    }
}
