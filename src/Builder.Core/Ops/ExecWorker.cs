using Builder.Core.Execution;
using Builder.Core.Filesystem;
using Builder.Core.Graph;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>
/// A RUN step: a writable snapshot over the rootfs input, the process run in the sandbox with its
/// extra mounts (other inputs, caches, secrets, SSH agents, tmpfs), the snapshot committed. Only the
/// rootfs becomes the result; what the extra mounts hold never reaches a layer.
/// </summary>
/// <param name="scratchDir">a directory on the state root's filesystem for per-step scratch (writable bind layers).</param>
public sealed class ExecWorker(ISnapshotter snapshotter, IExecutor executor, CacheMounts cacheMounts, string scratchDir) : IOpWorker
{
    public bool Cacheable => true;

    /// <summary>
    /// The op (mount specs included: names of caches and secrets, never their content) and, per input,
    /// its key — or, for a context bound in by <c>--mount=type=bind</c>, a checksum of just the bound path.
    /// </summary>
    public async Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (ExecOp)vertex.Op;
        var parts = new List<string>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var users = op.Mounts.Where(m => m.Input == i).ToList();
            if (inputs[i].Content is { } content && users.Count > 0 && users.All(m => m.Type == "bind" && m.Target != "/"))
            {
                foreach (var selector in users.Select(m => m.Selector).Distinct(StringComparer.Ordinal))
                {
                    var path = selector.Trim('/') is { Length: > 0 } relative ? relative : ".";
                    parts.Add($"{i}:{selector}:{await content.ChecksumAsync(path, allowWildcard: false, ct).ConfigureAwait(false)}");
                }
            }
            else parts.Add(inputs[i].CacheKey.ToString());
        }
        return new OpKey(CacheKey.Of(vertex.Op, parts));
    }

    public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (ExecOp)vertex.Op;
        var privileged = op.Meta.Security == "insecure";
        if (privileged && !session.Entitlements.Contains(Entitlements.SecurityInsecure))
            throw new ExecMountException($"RUN --security=insecure needs the {Entitlements.SecurityInsecure} entitlement: run the build with --allow {Entitlements.SecurityInsecure}");

        var rootMount = op.Mounts.FirstOrDefault(m => m.Target == "/")
            ?? throw new InvalidOperationException("an exec op needs a mount at /");
        var parent = rootMount.Input >= 0 ? inputs[rootMount.Input].SnapshotId : null;

        await using var rootfs = await snapshotter.PrepareAsync(parent, ct).ConfigureAwait(false);
        await using var resources = new StepResources();
        var mounts = new List<ExecMount>();
        var secrets = new List<ExecSecret>();
        // Parents before children: a mount inside another mount's target must be made after it.
        foreach (var mount in op.Mounts.Where(m => m.Target != "/").OrderBy(m => Depth(m.Target)))
        {
            switch (mount.Type)
            {
                case "secret":
                    if (await SecretForAsync(mount, session, ct).ConfigureAwait(false) is { } secret) secrets.Add(secret);
                    break;
                case "ssh":
                    if (SshMountFor(mount, session, resources) is { } ssh) mounts.Add(ssh);
                    break;
                case "tmpfs":
                    var size = mount.Tmpfs is { SizeBytes: > 0 } t ? [$"size={t.SizeBytes}"] : Array.Empty<string>();
                    mounts.Add(new ExecMount("tmpfs", mount.Target, "tmpfs", ["nosuid", "nodev", .. size]));
                    break;
                case "cache":
                    mounts.Add(await CacheMountForAsync(mount, inputs, resources, ct).ConfigureAwait(false));
                    break;
                case "bind":
                    mounts.Add(await BindMountForAsync(mount, inputs, resources, ct).ConfigureAwait(false));
                    break;
                default:
                    throw new NotSupportedException($"mount type \"{mount.Type}\" at {mount.Target} is not supported");
            }
        }

        var spec = new ExecSpec(
            rootfs.MountPath, op.Meta.Args, op.Meta.Env, op.Meta.Cwd, op.Meta.User,
            op.Meta.Network == "none" ? NetworkMode.None : NetworkMode.Host,
            mounts, Secrets: secrets, Privileged: privileged);
        var exitCode = await executor.RunAsync(spec, new ProgressOutput(vertex, session.Progress), ct).ConfigureAwait(false);
        if (exitCode != 0)
            throw new ExecFailedException(op.Meta.Args, exitCode);

        await resources.DisposeAsync().ConfigureAwait(false);
        var committed = await rootfs.CommitAsync(ct).ConfigureAwait(false);
        return new OpOutput(committed.Id);
    }

    /// <summary>Unmounts and removes what a crashed process left in <paramref name="scratchDir"/>. Call at start-up, before any step.</summary>
    public static void RemoveLeftovers(string scratchDir)
    {
        if (!Directory.Exists(scratchDir)) return;
        foreach (var mountPoint in OverlayMounts.MountPointsUnder(scratchDir)) OverlayMounts.UnmountOrDetach(mountPoint);
        Directory.Delete(scratchDir, recursive: true);
    }

    private static int Depth(string target) => target.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;

    private static async Task<ExecSecret?> SecretForAsync(ExecMountSpec mount, SolveSession session, CancellationToken ct)
    {
        var options = mount.Secret ?? throw new InvalidOperationException($"secret mount {mount.Target} has no secret options");
        var data = await session.Secrets.GetAsync(options.Id, ct).ConfigureAwait(false);
        if (data is null)
        {
            if (options.Required)
                throw new ExecMountException($"secret {options.Id}: not found (it is required: pass it with --secret id={options.Id},src=PATH or --secret id={options.Id},env=VARIABLE)");
            return null; // an optional secret the client did not give is simply absent
        }
        return new ExecSecret(mount.Target.Length > 0 ? mount.Target : null, options.Env, data, options.Uid, options.Gid, options.Mode);
    }

    private ExecMount? SshMountFor(ExecMountSpec mount, SolveSession session, StepResources resources)
    {
        var options = mount.Ssh ?? new SshMountOptions();
        if (!session.SshAgents.TryGetValue(options.Id, out var socket) || !File.Exists(socket))
        {
            if (options.Required)
                throw new ExecMountException($"no SSH key \"{options.Id}\" forwarded from the client (pass --ssh {options.Id}[=SOCKET])");
            return null;
        }
        // A socket path must fit in 108 bytes, which a state root's path may not leave room for.
        var proxy = SshAgentProxy.Start(Directory.CreateTempSubdirectory("builder-ssh-").FullName, socket, options.Uid, options.Gid, options.Mode);
        resources.Add(proxy);
        return new ExecMount(proxy.SocketPath, mount.Target, "bind", ["rbind", "nosuid", "nodev", "noexec"]);
    }

    /// <summary>A persistent cache directory (a subpath of it with <c>source</c>), held for the step as its sharing mode says.</summary>
    private async Task<ExecMount> CacheMountForAsync(ExecMountSpec mount, IReadOnlyList<OpOutput> inputs, StepResources resources, CancellationToken ct)
    {
        var options = mount.Cache ?? throw new InvalidOperationException($"cache mount {mount.Target} has no cache options");
        var seedInput = mount.Input >= 0 ? inputs[mount.Input] : null;
        var seed = SeedOf(options, seedInput);
        var lease = await cacheMounts.AcquireAsync(options.Id, seed, options.Sharing, async (dir, token) =>
        {
            if (seedInput is not null && await RootOfAsync(seedInput, resources, token).ConfigureAwait(false) is { } from)
                await CopyTreeAsync(from, dir, token).ConfigureAwait(false);
            // After the copy, which gives the directory its source root's owner and mode.
            Native.SetOwner(dir, (uint)options.Uid, (uint)options.Gid);
            Native.SetMode(dir, (uint)options.Mode);
        }, ct).ConfigureAwait(false);
        resources.Add(lease);

        // The source path cannot leave the cache directory (symlinks and ".." resolve inside it).
        var source = RootedPath.Resolve(lease.Path, mount.Selector);
        Directory.CreateDirectory(source);
        return new ExecMount(source, mount.Target, "bind", ["rbind", mount.ReadOnly ? "ro" : "rw"]);
    }

    /// <summary>Copies a tree with owners, modes, links and times (cp -a): a cache's first content from its <c>from</c>.</summary>
    private static async Task CopyTreeAsync(string from, string to, CancellationToken ct)
    {
        var start = new System.Diagnostics.ProcessStartInfo("cp") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-a", "--", from.TrimEnd('/') + "/.", to }) start.ArgumentList.Add(arg);
        using var cp = System.Diagnostics.Process.Start(start) ?? throw new ExecMountException("could not start cp to seed a cache mount");
        var errors = await cp.StandardError.ReadToEndAsync(ct).ConfigureAwait(false);
        await cp.WaitForExitAsync(ct).ConfigureAwait(false);
        if (cp.ExitCode != 0) throw new ExecMountException($"seeding a cache mount from its source failed: {errors.Trim()}");
    }

    private static string SeedOf(CacheMountOptions options, OpOutput? from)
    {
        var defaults = options is { Uid: 0, Gid: 0, Mode: 0x1ED };
        if (from is null && defaults) return "";
        var fromId = from is null ? "" : from.SnapshotId ?? from.HostDirectory ?? "empty";
        return $"from={fromId};owner={options.Uid}:{options.Gid};mode={Convert.ToString(options.Mode, 8)}";
    }

    /// <summary>
    /// Another input bound in: read-only as it is, or — for <c>rw</c> — under a scratch overlay whose
    /// writes are thrown away after the step (never into the input, nor the user's context directory).
    /// </summary>
    private async Task<ExecMount> BindMountForAsync(ExecMountSpec mount, IReadOnlyList<OpOutput> inputs, StepResources resources, CancellationToken ct)
    {
        if (mount.Input < 0) throw new InvalidOperationException($"bind mount {mount.Target} has no input");
        var root = await RootOfAsync(inputs[mount.Input], resources, ct).ConfigureAwait(false) ?? EmptyDirectory.Path;
        var source = RootedPath.Resolve(root, mount.Selector);
        if (!Path.Exists(source))
            throw new ExecMountException($"failed to mount {mount.Target}: {(mount.Selector.Length > 0 ? mount.Selector : "/")} not found in its source");
        if (mount.ReadOnly)
            return new ExecMount(source, mount.Target, "bind", ["rbind", "ro"]);

        var scratch = Path.Combine(scratchDir, "bind-" + Guid.NewGuid().ToString("N"));
        resources.Add(new ScratchDirectory(scratch));
        if (!Directory.Exists(source))
        {
            // A single file: a private copy the step may change.
            Directory.CreateDirectory(scratch);
            var copy = Path.Combine(scratch, "file");
            File.Copy(source, copy);
            return new ExecMount(copy, mount.Target, "bind", ["rbind", "rw"]);
        }
        var (upper, work, merged) = (Path.Combine(scratch, "upper"), Path.Combine(scratch, "work"), Path.Combine(scratch, "merged"));
        foreach (var dir in new[] { upper, work, merged }) Directory.CreateDirectory(dir);
        OverlayMounts.Mount(merged, [source], upper, work);
        resources.Add(new Unmount(merged));
        return new ExecMount(merged, mount.Target, "bind", ["rbind", "rw"]);
    }

    /// <summary>Where an input's files are on the host: its directory, or a read-only view of its snapshot; null when empty.</summary>
    private async Task<string?> RootOfAsync(OpOutput input, StepResources resources, CancellationToken ct)
    {
        if (input.HostDirectory is { } hostDir) return hostDir;
        if (input.SnapshotId is not { } snapshotId) return null;
        var view = await snapshotter.ViewAsync(snapshotId, ct).ConfigureAwait(false);
        resources.Add(view);
        return view.MountPath;
    }

    /// <summary>What a step holds while it runs (views, cache leases, overlays, sockets), released newest first.</summary>
    private sealed class StepResources : IAsyncDisposable
    {
        private readonly List<object> _held = [];

        public void Add(object resource) => _held.Add(resource);

        public async ValueTask DisposeAsync()
        {
            for (var i = _held.Count - 1; i >= 0; i--)
            {
                switch (_held[i])
                {
                    case IAsyncDisposable a: await a.DisposeAsync().ConfigureAwait(false); break;
                    case IDisposable d: d.Dispose(); break;
                }
            }
            _held.Clear();
        }
    }

    private sealed class Unmount(string path) : IDisposable
    {
        public void Dispose() => OverlayMounts.UnmountOrDetach(path);
    }

    private sealed class ScratchDirectory(string path) : IDisposable
    {
        public void Dispose()
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
    }

    private static class EmptyDirectory
    {
        public static string Path { get; } = System.IO.Directory.CreateTempSubdirectory("builder-empty-").FullName;
    }

    /// <summary>Forwards the process's output to the build's progress as log events of this vertex.</summary>
    private sealed class ProgressOutput(Vertex vertex, IProgressSink progress) : IExecOutput
    {
        public void Stdout(ReadOnlySpan<byte> data) => progress.Report(new VertexLog(vertex, DateTimeOffset.UtcNow, 1, data.ToArray()));
        public void Stderr(ReadOnlySpan<byte> data) => progress.Report(new VertexLog(vertex, DateTimeOffset.UtcNow, 2, data.ToArray()));
    }
}

/// <summary>A RUN's process exited non-zero. The text is BuildKit's, which users and CI logs grep for.</summary>
public sealed class ExecFailedException(IReadOnlyList<string> args, int exitCode)
    : Exception($"process \"{string.Join(' ', args)}\" did not complete successfully: exit code: {exitCode}")
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>A RUN step's mounts could not be provided (a required secret or SSH agent missing, a bind source absent, an entitlement not granted).</summary>
public sealed class ExecMountException(string message) : Exception(message);
