using System.Net.Sockets;
using Builder.Core.Engine;
using Builder.Core.Filesystem;
using Builder.Core.State;
using Builder.Daemon.Control;
using Builder.Daemon.FileSync;
using Builder.Daemon.Gc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Daemon;

/// <summary>
/// <c>builder daemon</c>: takes the state root's lock (refusing to start if another process
/// holds it), opens the worker (which cleans what a crash left), and serves the API on a unix
/// socket until SIGTERM/SIGINT, which cancels running builds and waits for them to stop.
/// </summary>
public static class DaemonHost
{
    public static async Task<int> RunAsync(DaemonOptions options, TextWriter errors, CancellationToken ct)
    {
        var socketPath = Path.GetFullPath(DaemonOptions.SocketPath(options.Address));
        var root = new StateRoot(options.Root);
        using var stateLock = TryLock(root)
            ?? throw new DaemonStartException($"another builder (daemon or embedded build) is using {root.Path}");
        if (await AnswersAsync(socketPath))
            throw new DaemonStartException($"another daemon is listening on {socketPath}");

        await using var worker = await Worker.OpenAsync(root, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        if (File.Exists(socketPath) || Native.TryLStat(socketPath, out _)) File.Delete(socketPath);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff "; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = 16 << 20;
            o.MaxSendMessageSize = 16 << 20;
        });
        builder.Services.AddSingleton(worker);
        builder.Services.AddSingleton(options.Gc);
        builder.Services.AddSingleton(new ContextMirrors(Path.Join(root.Path, "contexts"), root.TempDir));
        builder.Services.AddSingleton<Sessions>();
        builder.Services.AddSingleton<Counters>();
        builder.Services.AddSingleton<BuildGate>();
        builder.Services.AddSingleton<GarbageCollector>();

        var app = builder.Build();
        app.MapGrpcService<ControlService>();
        app.MapGrpcService<FileSyncService>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("builder.daemon");

        await app.StartAsync(ct);
        SecureSocket(socketPath, options.Group, log);
        log.LogInformation("builder daemon {Version} (pid {Pid}) serving unix://{Socket}, root {Root}", DaemonInfo.Version, Environment.ProcessId, socketPath, root.Path);

        using var gcTimer = StartPeriodicGc(app.Services.GetRequiredService<GarbageCollector>(), options.Gc, app.Lifetime.ApplicationStopping, log);
        await app.WaitForShutdownAsync(ct);
        log.LogInformation("builder daemon stopped");
        await app.DisposeAsync();
        try { File.Delete(socketPath); } catch (IOException) { }
        return 0;
    }

    private static StateLock? TryLock(StateRoot root)
    {
        using var probe = new CancellationTokenSource();
        var task = StateLock.AcquireAsync(root, () => probe.Cancel(), probe.Token);
        try { return task.GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { return null; }
    }

    /// <summary>Is something already accepting connections on this socket?</summary>
    public static async Task<bool> AnswersAsync(string socketPath)
    {
        if (!File.Exists(socketPath) && !Native.TryLStat(socketPath, out _)) return false;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException) { return false; }
    }

    /// <summary>Like docker.sock: mode 0660, group <paramref name="group"/> when it exists (else only root).</summary>
    private static void SecureSocket(string socketPath, string group, ILogger log)
    {
        var gid = GroupId(group);
        if (gid is { } g) Native.SetOwner(socketPath, (uint)Tmds.Linux.LibC.geteuid(), g);
        else log.LogInformation("group {Group} does not exist: only root can use the socket", group);
        Native.SetMode(socketPath, 0x1B0 /* 0660 */);
    }

    private static uint? GroupId(string name)
    {
        if (!File.Exists("/etc/group")) return null;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], out var gid)) return gid;
        }
        return null;
    }

    private static Timer? StartPeriodicGc(GarbageCollector gc, GcPolicy policy, CancellationToken stopping, ILogger log)
    {
        if (!policy.Enabled || (policy.KeepStorage <= 0 && policy.KeepDuration is null)) return null;
        return new Timer(_ =>
        {
            try { gc.AutoPruneAsync(stopping).GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { }
            catch (Exception e) { log.LogWarning(e, "automatic gc failed"); }
        }, null, TimeSpan.FromSeconds(5), policy.Interval);
    }
}

/// <summary>The daemon cannot start (the root or socket is taken): a message for the user, exit code 1.</summary>
public sealed class DaemonStartException(string message) : Exception(message);
