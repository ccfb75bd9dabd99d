using System.Diagnostics;
using System.Text;
using Builder.Core.Execution;
using Builder.Core.State;

namespace Builder.Core.Tests.Execution;

/// <summary>
/// Marks tests that run real containers: they need root and runc, which scripts/setup installs.
/// They fail rather than skip without them — a missing runtime is a broken setup, not a pass.
/// </summary>
public sealed class RuncFactAttribute : FactAttribute;

/// <summary>Collects what a sandboxed process prints.</summary>
public sealed class CapturedOutput : IExecOutput
{
    private readonly MemoryStream _stdout = new();
    private readonly MemoryStream _stderr = new();

    public string StdoutText => Encoding.UTF8.GetString(_stdout.ToArray());

    public string StderrText => Encoding.UTF8.GetString(_stderr.ToArray());

    public void Stdout(ReadOnlySpan<byte> data) => _stdout.Write(data);

    public void Stderr(ReadOnlySpan<byte> data) => _stderr.Write(data);
}

// One collection: containers run one at a time (two shared cores). Other checkouts may run these
// same tests at the same time, so every leftover check looks only at this test's own state root,
// cgroup parent and process arguments.
[Collection("runc")]
public sealed class RuncExecutorTests : IDisposable
{
    private readonly StateRoot _state = new(Directory.CreateTempSubdirectory("builder-state-").FullName);
    private readonly TestRootfs _rootfs = TestRootfs.Create();
    private readonly string _cgroupParent = $"/builder-test-{Guid.NewGuid():N}";
    private readonly RuncExecutor _executor;

    public RuncExecutorTests()
    {
        _state.EnsureCreated();
        _executor = new RuncExecutor(_state, "/usr/sbin/runc", cgroupParent: _cgroupParent);
    }

    public void Dispose()
    {
        _rootfs.Dispose();
        Directory.Delete(_state.Path, recursive: true);
        foreach (var parent in CgroupParentDirs().Where(Directory.Exists))
            Directory.Delete(parent);
    }

    private ExecSpec Spec(params string[] args) =>
        new(_rootfs.Path, args, [], "/", "", NetworkMode.Host, [], Hostname: "sandbox-test");

    private async Task<(int ExitCode, CapturedOutput Output)> RunAsync(ExecSpec spec, CancellationToken ct = default)
    {
        var output = new CapturedOutput();
        var exitCode = await _executor.RunAsync(spec, output, ct);
        return (exitCode, output);
    }

    private async Task<string> StdoutOfAsync(ExecSpec spec)
    {
        var (exitCode, output) = await RunAsync(spec);
        Assert.True(exitCode == 0, $"exit {exitCode}: {output.StderrText}");
        return output.StdoutText;
    }

    [RuncFact]
    public async Task StdoutStderrAndExitCodesComeBack()
    {
        var (code, output) = await RunAsync(Spec("sh", "-c", "echo out; echo err >&2; exit 3"));
        Assert.Equal(3, code);
        Assert.Equal("out\n", output.StdoutText);
        Assert.Equal("err\n", output.StderrText);

        Assert.Equal(0, (await RunAsync(Spec("true"))).ExitCode);
    }

    [RuncFact]
    public async Task OnlyTheSandboxsProcessesAreVisibleAndItIsPidOne()
    {
        var pids = (await StdoutOfAsync(Spec("ls", "/proc")))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(name => name.All(char.IsAsciiDigit));
        Assert.Equal(["1"], pids);
    }

    [RuncFact]
    public async Task HostnameIsTheSandboxs()
    {
        Assert.Equal("sandbox-test\n", await StdoutOfAsync(Spec("hostname")));
    }

    [RuncFact]
    public async Task HostFilesAreNotVisible()
    {
        var sentinel = Path.Combine("/tmp", $"builder-sentinel-{Guid.NewGuid():N}");
        File.WriteAllText(sentinel, "host secret");
        try
        {
            var output = await StdoutOfAsync(Spec("sh", "-c", $"test -e {sentinel} && echo visible || echo hidden"));
            Assert.Equal("hidden\n", output);
        }
        finally
        {
            File.Delete(sentinel);
        }
    }

    [RuncFact]
    public async Task HostsAndResolvConfAreProvidedAndDevicesWork()
    {
        var output = await StdoutOfAsync(Spec("sh", "-c", "cat /etc/hosts /etc/resolv.conf; echo x > /dev/null && echo devnull-ok"));
        Assert.Contains("127.0.0.1\tlocalhost sandbox-test", output);
        Assert.Contains("nameserver", output);
        Assert.Contains("devnull-ok", output);
        // Bind-mounted from the bundle: nothing of them is left in the image's /etc.
        Assert.False(File.Exists(_rootfs.HostPath("etc/hosts")));
    }

    [RuncFact]
    public async Task EnvIsPassedWithDefaultPathAndHome()
    {
        var spec = Spec("sh", "-c", "echo $FOO $PATH $HOME") with { Env = ["FOO=bar"] };
        Assert.Equal("bar /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /root\n", await StdoutOfAsync(spec));
    }

    [RuncFact]
    public async Task RunsAsANamedUserWithItsGroupsAndHome()
    {
        var output = await StdoutOfAsync(Spec("sh", "-c", "id; echo $HOME") with { User = "app" });
        // Static busybox cannot map ids to names (no NSS), so id prints numbers only.
        Assert.Equal("uid=1000 gid=1000 groups=50\n/home/app\n", output);
    }

    [RuncFact]
    public async Task RunsAsUidColonGid()
    {
        Assert.Equal("uid=1000 gid=50\n", await StdoutOfAsync(Spec("id") with { User = "1000:50" }));
    }

    [RuncFact]
    public async Task AnUnknownUserNameIsAnError()
    {
        var error = await Assert.ThrowsAsync<ExecutionException>(() => RunAsync(Spec("id") with { User = "ghost" }));
        Assert.Equal("unable to find user ghost: no matching entries in passwd file", error.Message);
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task NetworkNoneHasOnlyLoopback()
    {
        Assert.Equal("lo\n", await StdoutOfAsync(Spec("ls", "/sys/class/net") with { Network = NetworkMode.None }));
    }

    [RuncFact]
    public async Task NetworkHostSeesTheHostsInterfaces()
    {
        var inside = (await StdoutOfAsync(Spec("ls", "/sys/class/net"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var host = Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(host, inside.Order(StringComparer.Ordinal));
    }

    [RuncFact]
    public async Task CancellationKillsEverythingAndCleansUp()
    {
        var (background, foreground) = (UniqueSleepArgument(), UniqueSleepArgument());
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => RunAsync(Spec("sh", "-c", $"sleep {background} & sleep {foreground}"), cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Empty(ProcessesWithArgument(background));
        Assert.Empty(ProcessesWithArgument(foreground));
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task TimeoutKillsEverythingAndCleansUp()
    {
        var duration = UniqueSleepArgument();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ExecutionException>(
            () => RunAsync(Spec("sleep", duration) with { Timeout = TimeSpan.FromSeconds(1) }));
        Assert.Contains("did not finish within", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Empty(ProcessesWithArgument(duration));
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task MountPointsCreatedForAMinimalImageAreRemovedButWrittenFilesStay()
    {
        using var bare = TestRootfs.Create(withEtc: false);
        var before = bare.Listing();
        var rootMtime = Directory.GetLastWriteTimeUtc(bare.Path);

        Assert.Equal(0, (await RunAsync(Spec("true") with { RootfsPath = bare.Path })).ExitCode);
        Assert.Equal(before, bare.Listing());
        Assert.Equal(rootMtime, Directory.GetLastWriteTimeUtc(bare.Path));

        var (code, _) = await RunAsync(Spec("sh", "-c", "echo hi > /out.txt; echo x > /etc/mine") with { RootfsPath = bare.Path });
        Assert.Equal(0, code);
        Assert.Equal([.. before, "etc", "etc/mine", "out.txt"], bare.Listing().Order(StringComparer.Ordinal));
        Assert.Equal("hi\n", File.ReadAllText(bare.HostPath("out.txt")));
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task AMissingExecutableIsAClearError()
    {
        var error = await Assert.ThrowsAsync<ExecutionException>(() => RunAsync(Spec("no-such-program")));
        Assert.Contains("\"no-such-program\": executable file not found in $PATH", error.Message);
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task TheWorkingDirectoryIsCreatedOwnedByTheUser()
    {
        var spec = Spec("sh", "-c", "pwd; stat -c %u:%g .; touch mine") with { WorkingDir = "/work/deep", User = "app" };
        Assert.Equal("/work/deep\n1000:1000\n", await StdoutOfAsync(spec));
        Assert.True(File.Exists(_rootfs.HostPath("work/deep/mine")));
    }

    [RuncFact]
    public async Task ExtraBindMountsAreVisibleAndTheirTargetsDoNotStayInTheRootfs()
    {
        var source = Directory.CreateTempSubdirectory("builder-bind-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(source, "data.txt"), "from the mount");
            var spec = Spec("cat", "/mnt/src/data.txt") with { Mounts = [new ExecMount(source, "/mnt/src", "bind", ["ro"])] };
            Assert.Equal("from the mount", await StdoutOfAsync(spec));
            Assert.False(Directory.Exists(_rootfs.HostPath("mnt")));
        }
        finally
        {
            Directory.Delete(source, recursive: true);
        }
    }

    [RuncFact]
    public async Task RunsWithDockersDefaultCapabilitiesNoNewPrivilegesAndMaskedKernelFiles()
    {
        var output = await StdoutOfAsync(Spec("sh", "-c",
            "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; " +
            "test -s /proc/kcore && echo kcore-readable; " +
            "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo proc-sys-writable; " +
            "ls /sys/firmware | wc -l"));
        // Docker's default set: chown … audit_write, nothing more.
        Assert.Contains("CapEff:\t00000000a80425fb", output);
        Assert.Contains("CapBnd:\t00000000a80425fb", output);
        Assert.Contains("NoNewPrivs:\t1", output);
        Assert.DoesNotContain("kcore-readable", output);
        Assert.DoesNotContain("proc-sys-writable", output);
        Assert.EndsWith("0\n", output);
    }

    [RuncFact]
    public async Task AnUnusableRuntimeBinaryIsAnExecutionError()
    {
        var executor = new RuncExecutor(_state, "/nonexistent/crun");
        var error = await Assert.ThrowsAsync<ExecutionException>(() => executor.RunAsync(Spec("true"), new CapturedOutput(), default));
        Assert.Contains("could not start the OCI runtime /nonexistent/crun", error.Message);
        AssertNothingLeftBehind();
    }

    [RuncFact]
    public async Task LeftoversOfACrashedProcessAreRemovedAtStartUp()
    {
        var stale = Directory.CreateDirectory(Path.Combine(_state.ExecutorDir, "0123456789abcdef01234567")).FullName;
        File.WriteAllText(Path.Combine(stale, "config.json"), "{}");
        await _executor.RemoveLeftoversAsync(default);
        Assert.False(Directory.Exists(stale));
    }

    [RuncFact]
    public async Task AFailingOutputStopsTheRunInsteadOfBlockingIt()
    {
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => _executor.RunAsync(Spec("sh", "-c", "while true; do echo spam; done"), new ThrowingOutput(), default));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        AssertNothingLeftBehind();
    }

    private sealed class ThrowingOutput : IExecOutput
    {
        public void Stdout(ReadOnlySpan<byte> data) => throw new InvalidOperationException("output is gone");

        public void Stderr(ReadOnlySpan<byte> data) => throw new InvalidOperationException("output is gone");
    }

    [RuncFact]
    public async Task RunsCanHappenInParallel()
    {
        using var other = TestRootfs.Create();
        var first = StdoutOfAsync(Spec("sh", "-c", "sleep 1; echo one"));
        var second = StdoutOfAsync(Spec("sh", "-c", "sleep 1; echo two") with { RootfsPath = other.Path, Hostname = "other" });
        Assert.Equal(["one\n", "two\n"], await Task.WhenAll(first, second));
        AssertNothingLeftBehind();
    }

    private void AssertNothingLeftBehind()
    {
        Assert.Equal(["runtime"], Directory.GetFileSystemEntries(_state.ExecutorDir).Select(Path.GetFileName));
        Assert.Empty(RuntimeContainers());
        foreach (var parent in CgroupParentDirs().Where(Directory.Exists))
            Assert.Empty(Directory.GetDirectories(parent));
    }

    // This test's cgroup parent in every hierarchy the host might have (v1 controllers, v2).
    private IEnumerable<string> CgroupParentDirs() =>
        Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup").Select(h => h + _cgroupParent);

    // A sleep duration no other test run uses, to find its processes by their argument.
    private static string UniqueSleepArgument() => Random.Shared.Next(100_000_000, 999_999_999).ToString();

    private IEnumerable<string> RuntimeContainers()
    {
        var list = Process.Start(new ProcessStartInfo("/usr/sbin/runc", ["--root", _executor.RuntimeStateDir, "list", "-q"])
        {
            RedirectStandardOutput = true,
        })!;
        var ids = list.StandardOutput.ReadToEnd();
        list.WaitForExit();
        return ids.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static IEnumerable<int> ProcessesWithArgument(string argument) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!))
            .Where(pid => CommandLine(pid).Contains(argument))
            .ToList();

    private static IReadOnlyList<string> CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        }
        catch (IOException)
        {
            return [];
        }
    }
}
