using System.Net.Sockets;
using Builder.Api.V1;
using Builder.Daemon;
using Grpc.Core;
using Grpc.Net.Client;

namespace Builder.Cli.Remote;

/// <summary>A connection to a builder daemon over its unix socket.</summary>
public sealed class DaemonClient : IDisposable
{
    public const string HostVariable = "BUILDER_HOST";

    /// <summary><c>BUILDER_HOST=embedded</c>: never use a daemon, build in this process.</summary>
    public const string Embedded = "embedded";

    private readonly GrpcChannel _channel;

    private DaemonClient(string address)
    {
        Address = address;
        var socketPath = DaemonOptions.SocketPath(address);
        _channel = GrpcChannel.ForAddress("http://builder.sock", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
                EnableMultipleHttp2Connections = true,
            },
            MaxReceiveMessageSize = 16 << 20,
            MaxSendMessageSize = 16 << 20,
        });
        Control = new Api.V1.Control.ControlClient(_channel);
        FileSync = new Api.V1.FileSync.FileSyncClient(_channel);
    }

    public string Address { get; }
    public Api.V1.Control.ControlClient Control { get; }
    public Api.V1.FileSync.FileSyncClient FileSync { get; }

    /// <summary>The daemon at <paramref name="address"/>; fails with a message for the user if it does not answer.</summary>
    public static async Task<DaemonClient> ConnectAsync(string address, CancellationToken ct)
    {
        var client = new DaemonClient(address);
        try
        {
            await client.Control.InfoAsync(new InfoRequest(), deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
            return client;
        }
        catch (RpcException e)
        {
            client.Dispose();
            throw new Commands.CliException($"cannot reach the builder daemon at {address}: {Reason(e)}");
        }
    }

    /// <summary>
    /// The daemon <c>builder build</c> should use: <c>$BUILDER_HOST</c> (which must answer), else
    /// the default socket when a daemon answers there, else null (embedded).
    /// </summary>
    public static async Task<DaemonClient?> ForBuildAsync(CancellationToken ct)
    {
        var host = Environment.GetEnvironmentVariable(HostVariable);
        if (host == Embedded) return null;
        if (!string.IsNullOrEmpty(host)) return await ConnectAsync(host, ct);
        if (!await DaemonHost.AnswersAsync(DaemonOptions.SocketPath(DaemonOptions.DefaultAddress))) return null;
        try { return await ConnectAsync(DaemonOptions.DefaultAddress, ct); }
        catch (Commands.CliException) { return null; }
    }

    /// <summary>For <c>builder ctl</c>: <c>--addr</c>, else <c>$BUILDER_HOST</c>, else the default socket.</summary>
    public static Task<DaemonClient> ForCtlAsync(string? address, CancellationToken ct) =>
        ConnectAsync(address ?? (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } h && h != Embedded ? h : DaemonOptions.DefaultAddress), ct);

    public static string Reason(RpcException e) =>
        e.InnerException is HttpRequestException { InnerException: SocketException socket } ? socket.Message
        : e.Status.Detail is { Length: > 0 } detail ? detail : e.StatusCode.ToString();

    public void Dispose() => _channel.Dispose();
}
