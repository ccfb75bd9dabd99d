using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Core.State;

namespace Builder.Core.Execution;

/// <summary>
/// Runs a RUN step's process in a container through an OCI runtime (runc by default).
/// Each run gets a bundle directory (config.json, hosts, resolv.conf, the runtime's log) under
/// <see cref="StateRoot.ExecutorDir"/>, and the runtime keeps its container state there too, so
/// nothing about our containers lives in the system-wide runc state. When <see cref="RunAsync"/>
/// returns or throws, the container, its cgroup, the bundle and the mount-point stubs are gone.
/// </summary>
/// <remarks>
/// No seccomp profile is applied yet (Docker's default one would be the next hardening step).
/// crun works through the same command line (<c>BUILDER_RUNTIME=crun</c>) where its cgroup
/// support does: crun 1.8 refuses hybrid cgroup v1/v2 hosts whose v2 hierarchy has controllers
/// ("cgroups in hybrid mode not supported"), and no crun flag avoids it; that failure surfaces as
/// an <see cref="ExecutionException"/> carrying crun's message.
/// </remarks>
public sealed class RuncExecutor : IExecutor
{
    /// <summary>Names the runtime binary (path or name on PATH) when the constructor does not.</summary>
    public const string RuntimeVariable = "BUILDER_RUNTIME";

    public const string DefaultRuntime = "runc";

    // How long one "kill" round waits for the runtime to report the container gone before trying again.
    private static readonly TimeSpan KillRetryInterval = TimeSpan.FromMilliseconds(100);

    // After this long of killing without effect, the runtime itself is killed: the caller must get control back.
    private static readonly TimeSpan KillGiveUp = TimeSpan.FromSeconds(30);

    private readonly string _runtime;
    private readonly string _executorDir;
    private readonly string _hostResolvConf;
    private readonly string _cgroupParent;

    /// <param name="runtime">runtime binary; default <c>$BUILDER_RUNTIME</c>, else <c>runc</c>.</param>
    /// <param name="hostResolvConf">where the host's resolver configuration is read from.</param>
    /// <param name="cgroupParent">cgroup under which each run gets its own (BuildKit's --cgroup-parent).</param>
    public RuncExecutor(
        StateRoot stateRoot,
        string? runtime = null,
        string hostResolvConf = SandboxFiles.HostResolvConf,
        string cgroupParent = RunCgroup.DefaultParent)
    {
        _runtime = runtime
            ?? (System.Environment.GetEnvironmentVariable(RuntimeVariable) is { Length: > 0 } fromEnv ? fromEnv : DefaultRuntime);
        _executorDir = stateRoot.ExecutorDir;
        _hostResolvConf = hostResolvConf;
        _cgroupParent = cgroupParent;
    }

    /// <summary>The runtime's own state directory (its <c>--root</c>): lists only our containers.</summary>
    public string RuntimeStateDir => Path.Combine(_executorDir, "runtime");

    public async Task<int> RunAsync(ExecSpec spec, IExecOutput output, CancellationToken ct)
    {
        Validate(spec);
        ct.ThrowIfCancellationRequested();

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var bundle = Path.Combine(_executorDir, id);
        Directory.CreateDirectory(RuntimeStateDir);
        Directory.CreateDirectory(bundle);
        // With secrets, the whole bundle (config.json with secret env, secret files, the runtime's own
        // state, which copies the config) lives in memory: nothing of a secret touches the disk.
        var inMemory = spec.Secrets is { Count: > 0 };
        var runtimeRoot = inMemory ? Path.Combine(bundle, RuntimeStateName) : RuntimeStateDir;
        MountPointStubs? stubs = null;
        try
        {
            if (inMemory)
            {
                Filesystem.Native.Mount("tmpfs", bundle, "tmpfs", 0, "mode=0700,size=64m");
                spec = WithSecrets(spec, WriteSecretFiles(bundle, spec.Secrets!));
            }
            var user = UserResolver.ResolveInRootfs(spec.RootfsPath, spec.User);
            WorkingDirectory.EnsureExists(spec.RootfsPath, spec.WorkingDir, user);
            var files = await SandboxFiles.WriteAsync(bundle, spec.Hostname, spec.Network, _hostResolvConf, ct);
            var runtimeSpec = SpecBuilder.Build(spec, user, files, RunCgroup.For(_cgroupParent, id).Path, OpenFilesLimit.ForSandbox());
            await RuntimeSpecJson.WriteAsync(runtimeSpec, Path.Combine(bundle, "config.json"), ct);

            stubs = MountPointStubs.Create(spec.RootfsPath, SpecBuilder.MountTargets(runtimeSpec));
            return await RunContainerAsync(id, bundle, runtimeRoot, spec.Timeout, output, ct);
        }
        finally
        {
            await DeleteContainerAsync(id, runtimeRoot);
            await RunCgroup.For(_cgroupParent, id).RemoveLeftoversAsync();
            stubs?.Remove();
            if (inMemory) UnmountBundle(bundle);
            Directory.Delete(bundle, recursive: true);
        }
    }

    // The runtime's state directory inside an in-memory bundle.
    private const string RuntimeStateName = "runtime-state";

    /// <summary>Writes each file secret into the (in-memory) bundle with its owner and mode; returns host path per secret.</summary>
    private static IReadOnlyList<string?> WriteSecretFiles(string bundle, IReadOnlyList<ExecSecret> secrets)
    {
        var dir = Path.Combine(bundle, "secrets");
        Directory.CreateDirectory(dir);
        var paths = new List<string?>();
        for (var i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i];
            if (secret.Destination is null)
            {
                paths.Add(null);
                continue;
            }
            var path = Path.Combine(dir, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.WriteAllBytes(path, secret.Data);
            Filesystem.Native.SetOwner(path, (uint)secret.Uid, (uint)secret.Gid);
            Filesystem.Native.SetMode(path, (uint)secret.Mode);
            paths.Add(path);
        }
        return paths;
    }

    private static ExecSpec WithSecrets(ExecSpec spec, IReadOnlyList<string?> files)
    {
        var mounts = spec.Mounts.ToList();
        var env = spec.Env.ToList();
        for (var i = 0; i < spec.Secrets!.Count; i++)
        {
            var secret = spec.Secrets[i];
            if (files[i] is { } file)
                mounts.Add(new ExecMount(file, secret.Destination!, "bind", ["rbind", "ro", "nosuid", "nodev", "noexec"]));
            if (secret.EnvName is { } name)
            {
                env.RemoveAll(e => e.StartsWith(name + "=", StringComparison.Ordinal));
                env.Add($"{name}={System.Text.Encoding.UTF8.GetString(secret.Data)}");
            }
        }
        return spec with { Mounts = mounts, Env = env };
    }

    private static void UnmountBundle(string bundle)
    {
        try { Filesystem.Native.Unmount(bundle, detach: false); }
        catch (Filesystem.NativeException e) when (e.Errno == Tmds.Linux.LibC.EBUSY) { Filesystem.Native.Unmount(bundle, detach: true); }
        catch (Filesystem.NativeException e) when (e.Errno == Tmds.Linux.LibC.EINVAL || e.Errno == Tmds.Linux.LibC.ENOENT) { }
    }

    /// <summary>
    /// Removes containers (with their cgroups) and bundles a crashed earlier process left behind.
    /// Call once at start-up, before any run; it must not race with <see cref="RunAsync"/>. Mount-point
    /// stubs of such a run stay in its rootfs, a snapshot of a build that never finished.
    /// </summary>
    public async Task RemoveLeftoversAsync(CancellationToken ct)
    {
        // A crashed builder's containers may still run: kill them first, their processes keep the rootfs mounts busy.
        if (Directory.Exists(RuntimeStateDir))
            foreach (var container in Directory.EnumerateDirectories(RuntimeStateDir))
            {
                try { await RunRuntimeCommandAsync(RuntimeStateDir, ["kill", "--all", Path.GetFileName(container), "KILL"]); }
                catch (ExecutionException) { }
            }
        if (!Directory.Exists(_executorDir))
            return;
        foreach (var bundle in Directory.EnumerateDirectories(_executorDir))
        {
            ct.ThrowIfCancellationRequested();
            if (bundle == RuntimeStateDir)
                continue;
            var id = Path.GetFileName(bundle);
            // A run with secrets kept the runtime's state inside its in-memory bundle.
            var ownState = Path.Combine(bundle, RuntimeStateName);
            await DeleteContainerAsync(id, Directory.Exists(ownState) ? ownState : RuntimeStateDir);
            await RunCgroup.For(_cgroupParent, id).RemoveLeftoversAsync();
            UnmountBundle(bundle);
            Directory.Delete(bundle, recursive: true);
        }
    }

    private static void Validate(ExecSpec spec)
    {
        if (spec.Args.Count == 0)
            throw new ExecutionException("no command given to run");
        if (spec.WorkingDir.Length > 0 && !spec.WorkingDir.StartsWith('/'))
            throw new ExecutionException($"working directory {spec.WorkingDir} is not absolute");
        if (!Directory.Exists(spec.RootfsPath))
            throw new ExecutionException($"rootfs {spec.RootfsPath} does not exist");
    }

    private async Task<int> RunContainerAsync(string id, string bundle, string runtimeRoot, TimeSpan? timeout, IExecOutput output, CancellationToken ct)
    {
        var logPath = Path.Combine(bundle, "runtime.log");
        using var runtime = StartRuntime(runtimeRoot, ["--log", logPath, "--log-format", "json", "run", "--bundle", bundle, id]);
        // No terminal, no input: the process reads end-of-file, like a RUN step under BuildKit.
        runtime.StandardInput.Close();

        using var timeoutSource = new CancellationTokenSource();
        if (timeout is { } limit)
            timeoutSource.CancelAfter(limit);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        var pumps = PumpOutputAsync(runtime, output, stop);
        try
        {
            await runtime.WaitForExitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            await KillContainerAsync(id, runtimeRoot, runtime);
            await pumps; // rethrows the output's failure when that is what stopped the run
            ct.ThrowIfCancellationRequested();
            throw new ExecutionException($"the process did not finish within {timeout} and was killed");
        }

        // The pipes close once every process in the container is gone: pid 1 exiting ends the pid namespace.
        await pumps;
        if (runtime.ExitCode != 0 && RuntimeError(logPath) is { } error)
            throw new ExecutionException(error);
        return runtime.ExitCode;
    }

    /// <summary>
    /// Kills every process in the container. Retried because a cancel can arrive while the runtime is
    /// still creating the container, when there is nothing yet to kill.
    /// </summary>
    private async Task KillContainerAsync(string id, string runtimeRoot, Process runtime)
    {
        var deadline = Stopwatch.StartNew();
        while (!runtime.HasExited && deadline.Elapsed < KillGiveUp)
        {
            await RunRuntimeCommandAsync(runtimeRoot, ["kill", "--all", id, "KILL"]);
            using var wait = new CancellationTokenSource(KillRetryInterval);
            try
            {
                await runtime.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Not gone yet: kill again.
            }
        }
        if (!runtime.HasExited)
        {
            runtime.Kill(entireProcessTree: true);
            await runtime.WaitForExitAsync();
        }
    }

    // --force also kills what is still running; a container that never got created is not an error here.
    private async Task DeleteContainerAsync(string id, string runtimeRoot)
    {
        // `runc run` removes a container whose process exited; only one it was stopped from cleaning
        // up (killed, crashed) still has its state directory. Skipping the extra runtime process
        // saves a Go binary's start-up on every RUN.
        if (!Directory.Exists(Path.Combine(runtimeRoot, id))) return;
        try
        {
            await RunRuntimeCommandAsync(runtimeRoot, ["delete", "--force", id]);
        }
        catch (ExecutionException)
        {
            // The runtime binary cannot even start, so it cannot have created this container either;
            // the original error is already on its way to the caller.
        }
    }

    private async Task RunRuntimeCommandAsync(string runtimeRoot, IReadOnlyList<string> args)
    {
        using var command = StartRuntime(runtimeRoot, args);
        command.StandardInput.Close();
        await Task.WhenAll(command.StandardOutput.ReadToEndAsync(), command.StandardError.ReadToEndAsync());
        await command.WaitForExitAsync();
    }

    private Process StartRuntime(string runtimeRoot, IReadOnlyList<string> args)
    {
        var startInfo = new ProcessStartInfo(_runtime)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--root");
        startInfo.ArgumentList.Add(runtimeRoot);
        foreach (var arg in args)
            startInfo.ArgumentList.Add(arg);
        try
        {
            return Process.Start(startInfo) ?? throw new ExecutionException($"could not start the OCI runtime {_runtime}");
        }
        catch (Win32Exception e)
        {
            throw new ExecutionException($"could not start the OCI runtime {_runtime}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Forwards both streams as chunks arrive. If the output throws, the run is stopped and the rest
    /// is read and dropped: runc copies the process's output through pipes of its own and does not
    /// exit, even after the kill, until it has written everything to us.
    /// </summary>
    private static Task PumpOutputAsync(Process runtime, IExecOutput output, CancellationTokenSource stop)
    {
        var sink = new SerializedOutput(output);
        return Task.WhenAll(
            PumpAsync(runtime.StandardOutput.BaseStream, sink, isStderr: false, stop),
            PumpAsync(runtime.StandardError.BaseStream, sink, isStderr: true, stop));
    }

    private static async Task PumpAsync(Stream from, SerializedOutput to, bool isStderr, CancellationTokenSource stopOnFailure)
    {
        var buffer = new byte[32 * 1024];
        int read;
        try
        {
            while ((read = await from.ReadAsync(buffer)) > 0)
                to.Write(buffer.AsSpan(0, read), isStderr);
        }
        catch
        {
            await stopOnFailure.CancelAsync();
            while (await from.ReadAsync(buffer) > 0)
            {
                // Dropped: see PumpOutputAsync.
            }
            throw;
        }
    }

    /// <summary>
    /// The runtime's own failure (it could not set up or start the process), from its JSON log.
    /// The process's exit codes and messages never go there: they go to its stdout/stderr.
    /// </summary>
    private static string? RuntimeError(string logPath)
    {
        if (!File.Exists(logPath))
            return null;
        string? message = null;
        foreach (var line in File.ReadLines(logPath))
        {
            try
            {
                using var entry = JsonDocument.Parse(line);
                if (entry.RootElement.TryGetProperty("level", out var level) && level.GetString() is "error" or "fatal"
                    && entry.RootElement.TryGetProperty("msg", out var msg))
                    message = msg.GetString();
            }
            catch (JsonException)
            {
                // Not every runtime writes one JSON object per line; ignore what we cannot read.
            }
        }
        return message is null ? null : ReadableRuntimeError(message);
    }

    // "runc run failed: unable to start container process: exec: \"x\": executable file not found in $PATH"
    // → "unable to start container process: exec: \"x\": executable file not found in $PATH"
    private static string ReadableRuntimeError(string message)
    {
        const string prefix = " run failed: ";
        var at = message.IndexOf(prefix, StringComparison.Ordinal);
        return at >= 0 ? message[(at + prefix.Length)..] : message;
    }

    /// <summary>Delivers stdout and stderr chunks one at a time, so an <see cref="IExecOutput"/> need not be thread-safe.</summary>
    private sealed class SerializedOutput(IExecOutput output)
    {
        private readonly Lock _lock = new();

        public void Write(ReadOnlySpan<byte> data, bool isStderr)
        {
            lock (_lock)
            {
                if (isStderr)
                    output.Stderr(data);
                else
                    output.Stdout(data);
            }
        }
    }
}
