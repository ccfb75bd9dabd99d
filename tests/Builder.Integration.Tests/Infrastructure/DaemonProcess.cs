using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Builder.Integration.Tests.Infrastructure;

/// <summary>A real <c>builder daemon</c> process on a temp socket and state root.</summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public DaemonProcess(string stateRoot, string socketDir)
    {
        StateRoot = stateRoot;
        SocketPath = Path.Combine(socketDir, "builder.sock");
    }

    public string StateRoot { get; }
    public string SocketPath { get; }
    public string Address => $"unix://{SocketPath}";
    public int Pid => _process?.Id ?? 0;

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>A client of this daemon (BUILDER_HOST set to its socket).</summary>
    public BuilderCli Client()
    {
        var cli = new BuilderCli(Path.Combine(Path.GetTempPath(), "builder-client-unused-root"));
        cli.Environment["BUILDER_HOST"] = Address;
        return cli;
    }

    public async Task StartAsync()
    {
        var start = RepoPaths.BuilderStartInfo(["daemon", "--addr", Address, "--root", StateRoot]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the daemon exited with {_process.ExitCode}:\n{Log}");
            if (Log.Contains("serving unix://", StringComparison.Ordinal) && Answers()) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the daemon did not start:\n{Log}");
    }

    private bool Answers()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { socket.Connect(new UnixDomainSocketEndPoint(SocketPath)); return true; }
        catch (SocketException) { return false; }
    }

    /// <summary>kill -9: no chance to clean anything.</summary>
    public void KillHard()
    {
        _process!.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, then waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        Syscall.Kill(_process!.Id, 15);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false }) { _process.Kill(); _process.WaitForExit(); }
        _process?.Dispose();
    }

    private static class Syscall
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
