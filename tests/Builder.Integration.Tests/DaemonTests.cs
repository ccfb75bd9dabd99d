using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>
/// The daemon as clients see it: a real <c>builder daemon</c> process on a temp socket and
/// state root, real <c>builder</c> client processes, real runc builds.
/// </summary>
[Collection(BusyboxCollection.Name)]
public sealed class DaemonTests : IAsyncLifetime
{
    private readonly BusyboxImage _busybox;
    private readonly TempDir _state = new("builder-dstate");
    private readonly TempDir _socketDir = new("builder-dsock");
    private readonly TempDir _context = new("builder-dctx");
    private readonly TempDir _out = new("builder-dout");
    private DaemonProcess _daemon;

    public DaemonTests(BusyboxImage busybox)
    {
        _busybox = busybox;
        _daemon = new DaemonProcess(_state.Path, _socketDir.Path);
    }

    public Task InitializeAsync() => _daemon.StartAsync();

    public Task DisposeAsync()
    {
        _daemon.Dispose();
        foreach (var dir in new[] { _state, _socketDir, _context, _out }) dir.Dispose();
        return Task.CompletedTask;
    }

    private string[] Build(params string[] extra) => ["build", "--progress", "plain", .. _busybox.BuildContextArgs, .. extra, _context.Path];

    private async Task<CliResult> BuildOkAsync(BuilderCli cli, params string[] extra)
    {
        var result = await cli.RunAsync(Build(extra));
        Assert.True(result.ExitCode == 0, $"build failed ({result.ExitCode}):\n{result.Output}\ndaemon:\n{_daemon.Log}");
        return result;
    }

    private async Task<Dictionary<string, long>> CountersAsync()
    {
        var info = await _daemon.Client().RunAsync("ctl", "debug", "workers");
        Assert.True(info.ExitCode == 0, info.Output);
        return Regex.Matches(info.Stdout, @"^(\S+) (\d+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
    }

    [Fact]
    public async Task Cache_flags_travel_to_the_daemon_and_its_cache_serves_an_embedded_build()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN head -c 16 /dev/urandom | od -An -tx1 > /rand\n");
        var cache = _out.Combine("cache");
        var a = _out.Combine("a.tar");
        var b = _out.Combine("b.tar");
        await BuildOkAsync(_daemon.Client(), "-o", $"type=oci,dest={a}", "--cache-to", $"type=local,dest={cache}");
        await BuildOkAsync(new BuilderCli(_out.Combine("embedded-root")), "-o", $"type=oci,dest={b}", "--cache-from", $"type=local,src={cache}");
        Assert.Equal(OciArchive.Load(a).FileText("rand"), OciArchive.Load(b).FileText("rand"));
    }

    [Fact]
    public async Task Two_clients_building_the_same_Dockerfile_at_once_run_its_RUN_once()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN head -c 32 /dev/urandom | od -An -tx1 > /rand && sleep 2\n");
        var a = _out.Combine("a.tar");
        var b = _out.Combine("b.tar");
        var builds = await Task.WhenAll(
            _daemon.Client().RunAsync(Build("-o", $"type=oci,dest={a}")),
            _daemon.Client().RunAsync(Build("-o", $"type=oci,dest={b}")));
        foreach (var build in builds) Assert.True(build.ExitCode == 0, build.Output + _daemon.Log);

        var randA = OciArchive.Load(a).FileText("rand");
        var randB = OciArchive.Load(b).FileText("rand");
        Assert.True(randA.Length > 90, randA); // 32 random bytes as hex: really written by the RUN
        Assert.Equal(randA, randB);
        Assert.Equal(2, (await CountersAsync())["solves.started"]);
    }

    [Fact]
    public async Task A_one_file_change_in_a_10000_file_context_transfers_one_file()
    {
        for (var d = 0; d < 100; d++)
        {
            var dir = Path.Combine(_context.Path, $"d{d:00}");
            Directory.CreateDirectory(dir);
            for (var f = 0; f < 100; f++) File.WriteAllText(Path.Combine(dir, $"f{f:00}.txt"), $"file {d}/{f}\n");
        }
        Directory.CreateDirectory(_context.Combine("ignored"));
        File.WriteAllText(_context.Combine("ignored/big.bin"), new string('x', 100_000));
        _context.Write(".dockerignore", "ignored\n");
        _context.Write("Dockerfile", "FROM busybox\nCOPY . /ctx\nRUN cat /ctx/d42/f42.txt && ls /ctx | wc -l\n");

        var first = await BuildOkAsync(_daemon.Client());
        Assert.Contains("file 42/42", first.Output);
        var before = await CountersAsync();
        Assert.Equal(10_002, before["filesync.files_received"]); // 10,000 files + Dockerfile + .dockerignore; nothing ignored

        File.WriteAllText(_context.Combine("d42/f42.txt"), "changed!\n");
        var second = await BuildOkAsync(_daemon.Client());
        Assert.Contains("changed!", second.Output);
        var after = await CountersAsync();
        Assert.Equal(1, after["filesync.files_received"] - before["filesync.files_received"]);
        Assert.Equal(9, after["filesync.bytes_received"] - before["filesync.bytes_received"]);

        var third = await BuildOkAsync(_daemon.Client());
        Assert.Contains("CACHED", third.Output);
        Assert.Equal(after["filesync.files_received"], (await CountersAsync())["filesync.files_received"]);

        // Pruning the mirror makes the same, unchanged list send every file again.
        var prune = await _daemon.Client().RunAsync("ctl", "prune", "--all");
        Assert.True(prune.ExitCode == 0, prune.Output);
        var fourth = await BuildOkAsync(_daemon.Client());
        Assert.Contains("changed!", fourth.Output);
        Assert.Equal(10_002, (await CountersAsync())["filesync.files_received"] - after["filesync.files_received"]);
    }

    [Fact]
    public async Task A_client_killed_mid_build_leaves_the_daemon_healthy_and_nothing_behind()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN echo started && sleep 60\n");
        using (var client = _daemon.Client().Start(Build()))
        {
            await WaitUntilAsync(() => ContainerProcesses().Count > 0, TimeSpan.FromSeconds(30), "the RUN to start");
            client.Kill();
            await client.WaitForExitAsync();
        }
        await WaitUntilAsync(() => ContainerProcesses().Count == 0 && SystemState.MountsUnder(_state.Path).Count == 0,
            TimeSpan.FromSeconds(20), "the cancelled build's processes and mounts to go");

        _context.Write("Dockerfile", "FROM busybox\nRUN echo next > /next\n");
        var next = await BuildOkAsync(_daemon.Client(), "-o", $"type=oci,dest={_out.Combine("next.tar")}");
        Assert.Equal("next\n", OciArchive.Load(_out.Combine("next.tar")).FileText("next"));
        Assert.Empty(SystemState.MountsUnder(_state.Path));
    }

    [Fact]
    public async Task Kill_9_of_the_daemon_mid_build_then_a_restart_keeps_every_image_and_builds_again()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN head -c 64 /dev/urandom > /r1\n");
        await BuildOkAsync(_daemon.Client(), "-t", "keep:one");
        _context.Write("Dockerfile", "FROM busybox\nRUN head -c 64 /dev/urandom > /r2\n");
        await BuildOkAsync(_daemon.Client(), "-t", "keep:two");

        _context.Write("Dockerfile", "FROM busybox\nRUN echo started && sleep 60\n");
        using (var client = _daemon.Client().Start(Build("-t", "never:tagged")))
        {
            await WaitUntilAsync(() => ContainerProcesses().Count > 0, TimeSpan.FromSeconds(30), "the RUN to start");
            _daemon.KillHard();
            await client.WaitForExitAsync();
            Assert.NotEqual(0, client.ExitCode);
        }

        _daemon.Dispose();
        _daemon = new DaemonProcess(_state.Path, _socketDir.Path);
        await _daemon.StartAsync();
        await WaitUntilAsync(() => ContainerProcesses().Count == 0, TimeSpan.FromSeconds(10), "the orphaned sandbox to be killed by the restart");
        Assert.Empty(SystemState.MountsUnder(_state.Path));

        var blobs = Directory.GetFiles(Path.Combine(_state.Path, "content", "blobs", "sha256"));
        Assert.NotEmpty(blobs);
        foreach (var blob in blobs)
        {
            await using var file = File.OpenRead(blob);
            Assert.Equal(Path.GetFileName(blob), Convert.ToHexStringLower(await SHA256.HashDataAsync(file)));
        }
        var images = await _daemon.Client().RunAsync("ctl", "du", "--verbose");
        Assert.True(images.ExitCode == 0, images.Output);

        // Both images still resolve and build on: FROM the tagged images themselves.
        _context.Write("Dockerfile", "FROM keep:one\nCOPY --from=keep:two /r2 /r2\nRUN test -s /r1 && test -s /r2 && echo ok > /ok\n");
        var next = _out.Combine("next.tar");
        var result = await _daemon.Client().RunAsync(["build", "--progress", "plain", "-o", $"type=oci,dest={next}", _context.Path]);
        Assert.True(result.ExitCode == 0, result.Output + _daemon.Log);
        Assert.Equal("ok\n", OciArchive.Load(next).FileText("ok"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_user_not_in_the_sockets_group_cannot_connect()
    {
        Assert.Equal(0b110_110_000u, (uint)File.GetUnixFileMode(_daemon.SocketPath) & 0x1FF);
        // The directory is open to everyone, so only the socket's own mode stands in the way.
        File.SetUnixFileMode(_socketDir.Path, (UnixFileMode)0x1ED);
        var connect = Process.Start(new ProcessStartInfo("setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
             $"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{_daemon.SocketPath}')"])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var stderr = await connect.StandardError.ReadToEndAsync();
        await connect.WaitForExitAsync();
        Assert.NotEqual(0, connect.ExitCode);
        Assert.Contains("PermissionError", stderr);

        // root still can.
        Assert.Equal(0, (await _daemon.Client().RunAsync("ctl", "debug", "workers")).ExitCode);
    }

    [Fact]
    public async Task SIGTERM_cancels_a_running_build_and_the_daemon_exits_cleanly()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN echo started && sleep 60\n");
        using var client = _daemon.Client().Start(Build());
        await WaitUntilAsync(() => ContainerProcesses().Count > 0, TimeSpan.FromSeconds(30), "the RUN to start");
        Assert.Equal(0, await _daemon.TerminateAsync(TimeSpan.FromSeconds(30)));
        await client.WaitForExitAsync();
        Assert.NotEqual(0, client.ExitCode);
        Assert.Empty(ContainerProcesses());
        Assert.Empty(SystemState.MountsUnder(_state.Path));
        Assert.False(File.Exists(_daemon.SocketPath));
    }

    [Fact]
    public async Task Ctl_build_prune_and_du_work_through_the_daemon()
    {
        _context.Write("Dockerfile", "FROM busybox\nARG MSG\nRUN echo $MSG > /msg\n");
        var tar = _out.Combine("ctl.tar");
        var ctl = await _daemon.Client().RunAsync("ctl", "build", "--progress", "rawjson", "--frontend", "dockerfile.v0",
            "--local", $"context={_context.Path}", "--local", $"dockerfile={_context.Path}",
            "--opt", "build-arg:MSG=hello", "--opt", $"context:busybox=oci-layout://{_busybox.Directory}",
            "--output", $"type=oci,dest={tar},name=ctl:one");
        Assert.True(ctl.ExitCode == 0, ctl.Output + _daemon.Log);
        Assert.Equal("hello\n", OciArchive.Load(tar).FileText("msg"));
        Assert.Contains("\"vertex\":", ctl.Stderr);
        Assert.All(ctl.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("{", line));

        var du = await _daemon.Client().RunAsync("ctl", "du");
        Assert.True(du.ExitCode == 0, du.Output);
        Assert.Contains("cache", du.Stdout);

        var prune = await _daemon.Client().RunAsync("ctl", "prune");
        Assert.True(prune.ExitCode == 0, prune.Output);
        var after = await _daemon.Client().RunAsync("ctl", "du", "--verbose");
        Assert.DoesNotContain("Type:\t\tcache", after.Stdout);
        // Cache gone, the build still works (from scratch).
        var again = await _daemon.Client().RunAsync("ctl", "build", "--progress", "plain", "--local", $"context={_context.Path}",
            "--opt", "build-arg:MSG=again", "--opt", $"context:busybox=oci-layout://{_busybox.Directory}", "--output", $"type=oci,dest={tar}");
        Assert.True(again.ExitCode == 0, again.Output + _daemon.Log);
        Assert.Equal("again\n", OciArchive.Load(tar).FileText("msg"));
    }

    [Fact]
    public async Task A_failing_step_reports_the_same_way_and_exit_code_as_embedded()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN exit 3\n");
        var remote = await _daemon.Client().RunAsync(Build());
        var embedded = await new BuilderCli(_out.Combine("embedded-root")).RunAsync(Build());
        Assert.Equal(1, remote.ExitCode);
        Assert.Equal(embedded.ExitCode, remote.ExitCode);
        var report = (string s) => s[s.IndexOf(" > [2/2] RUN exit 3:", StringComparison.Ordinal)..];
        Assert.Equal(report(embedded.Stderr), report(remote.Stderr));
    }

    /// <summary>Sandboxed processes of builds under this test's state root (runc's state lives there).</summary>
    private List<string> ContainerProcesses() =>
        SystemState.ProcessesMentioning(Path.Combine(_state.Path, "executor")).ToList();

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
