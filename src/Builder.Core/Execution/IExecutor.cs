namespace Builder.Core.Execution;

/// <summary>Runs one process in a fresh sandbox (an OCI runtime container) and waits for it.</summary>
public interface IExecutor
{
    /// <summary>
    /// Returns the process's exit code. Cancelling kills the whole process tree; in every case
    /// the container, its runtime state and the mounts it made are gone when this returns.
    /// Throws <see cref="ExecutionException"/> when the sandbox itself cannot be set up.
    /// </summary>
    Task<int> RunAsync(ExecSpec spec, IExecOutput output, CancellationToken ct);
}

/// <param name="RootfsPath">a mounted, writable root filesystem (an active snapshot).</param>
/// <param name="Args">argv; Args[0] is looked up in PATH inside the rootfs when relative.</param>
/// <param name="Env">KEY=VALUE; PATH gets Docker's default when absent.</param>
/// <param name="WorkingDir">absolute; created if missing.</param>
/// <param name="User">as written in the Dockerfile: "", name, uid, name:group, uid:gid.</param>
/// <param name="Secrets">secrets for this run only: kept in memory (a tmpfs holds the runtime bundle
/// while any are given), never written to persistent storage.</param>
/// <param name="Privileged">RUN --security=insecure: every capability, no masked or read-only kernel paths.</param>
public sealed record ExecSpec(
    string RootfsPath,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string WorkingDir,
    string User,
    NetworkMode Network,
    IReadOnlyList<ExecMount> Mounts,
    string Hostname = "buildkitsandbox",
    TimeSpan? Timeout = null,
    IReadOnlyList<ExecSecret>? Secrets = null,
    bool Privileged = false);

/// <summary>
/// A secret given to one run: a read-only file at <paramref name="Destination"/> (owned by
/// <paramref name="Uid"/>:<paramref name="Gid"/>, <paramref name="Mode"/> bits) when it is set, and the
/// environment variable <paramref name="EnvName"/> when that is set.
/// </summary>
public sealed record ExecSecret(string? Destination, string? EnvName, byte[] Data, int Uid = 0, int Gid = 0, int Mode = 0x100)
{
    public override string ToString() => $"ExecSecret {{ Destination = {Destination}, EnvName = {EnvName} }}"; // never the bytes
}

public enum NetworkMode
{
    /// <summary>The host's network namespace (BuildKit's default for builds).</summary>
    Host,
    /// <summary>A new network namespace with only loopback.</summary>
    None,
}

/// <param name="Type">"bind" or "tmpfs" (options may then carry <c>size=</c>).</param>
public sealed record ExecMount(string Source, string Destination, string Type, IReadOnlyList<string> Options);

/// <summary>Where a sandboxed process's output goes, chunk by chunk as it arrives.</summary>
public interface IExecOutput
{
    void Stdout(ReadOnlySpan<byte> data);
    void Stderr(ReadOnlySpan<byte> data);
}

/// <summary>The sandbox could not be created or run (not: the process exited non-zero).</summary>
public sealed class ExecutionException(string message, Exception? inner = null) : Exception(message, inner);
