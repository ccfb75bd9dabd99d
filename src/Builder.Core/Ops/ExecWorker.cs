using Builder.Core.Execution;
using Builder.Core.Graph;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>A RUN step: a writable snapshot over the rootfs input, the process run in the sandbox, the snapshot committed.</summary>
public sealed class ExecWorker(ISnapshotter snapshotter, IExecutor executor) : IOpWorker
{
    public bool Cacheable => true;

    public Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct) =>
        Task.FromResult(new OpKey(CacheKey.Of(vertex.Op, inputs.Select(i => i.CacheKey))));

    public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (ExecOp)vertex.Op;
        var rootMount = op.Mounts.FirstOrDefault(m => m.Target == "/")
            ?? throw new InvalidOperationException("an exec op needs a mount at /");
        var parent = rootMount.Input >= 0 ? inputs[rootMount.Input].SnapshotId : null;

        await using var rootfs = await snapshotter.PrepareAsync(parent, ct).ConfigureAwait(false);
        var extraMounts = new List<ExecMount>();
        var views = new List<IMountedView>();
        try
        {
            foreach (var mount in op.Mounts.Where(m => m.Target != "/"))
                extraMounts.Add(await MountForAsync(mount, inputs, views, ct).ConfigureAwait(false));

            var spec = new ExecSpec(
                rootfs.MountPath, op.Meta.Args, op.Meta.Env, op.Meta.Cwd, op.Meta.User,
                op.Meta.Network == "none" ? NetworkMode.None : NetworkMode.Host,
                extraMounts);
            var exitCode = await executor.RunAsync(spec, new ProgressOutput(vertex, session.Progress), ct).ConfigureAwait(false);
            if (exitCode != 0)
                throw new ExecFailedException(op.Meta.Args, exitCode);
        }
        finally
        {
            foreach (var view in views) await view.DisposeAsync().ConfigureAwait(false);
        }
        var committed = await rootfs.CommitAsync(ct).ConfigureAwait(false);
        return new OpOutput(committed.Id);
    }

    /// <summary>Binds another input (a snapshot viewed read-only, or a host directory) or a tmpfs into the sandbox.</summary>
    private async Task<ExecMount> MountForAsync(ExecMountSpec mount, IReadOnlyList<OpOutput> inputs, List<IMountedView> views, CancellationToken ct)
    {
        if (mount.Type == "tmpfs")
            return new ExecMount("tmpfs", mount.Target, "tmpfs", ["nosuid", "nodev"]);
        if (mount.Type != "bind" || mount.Input < 0)
            throw new NotSupportedException($"mount type \"{mount.Type}\" at {mount.Target} is not supported yet");

        var input = inputs[mount.Input];
        string root;
        if (input.HostDirectory is { } hostDir) root = hostDir;
        else if (input.SnapshotId is { } snapshotId)
        {
            var view = await snapshotter.ViewAsync(snapshotId, ct).ConfigureAwait(false);
            views.Add(view);
            root = view.MountPath;
        }
        else throw new InvalidOperationException($"mount {mount.Target} has an empty input");

        var source = Filesystem.RootedPath.Resolve(root, mount.Selector);
        return new ExecMount(source, mount.Target, "bind", ["rbind", mount.ReadOnly ? "ro" : "rw"]);
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
