using System.Net.Sockets;

namespace Builder.Core.Execution;

/// <summary>
/// A unix socket that forwards every connection to the client's SSH agent, for one RUN step
/// (<c>--mount=type=ssh</c>). The step sees only this socket — owned and moded as the mount asks, so a
/// non-root user can reach it — never the agent's own path, and the socket is gone after the step.
/// </summary>
public sealed class SshAgentProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _directory;
    private readonly string _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;

    private SshAgentProxy(string directory, string upstream, int uid, int gid, int mode)
    {
        _directory = directory;
        _upstream = upstream;
        Directory.CreateDirectory(directory);
        SocketPath = Path.Combine(directory, "agent.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            Filesystem.Native.SetOwner(SocketPath, (uint)uid, (uint)gid);
            Filesystem.Native.SetMode(SocketPath, (uint)mode);
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The socket to bind into the sandbox.</summary>
    public string SocketPath { get; }

    /// <summary>Listens in <paramref name="directory"/> (private to root; removed on dispose) and forwards to <paramref name="upstreamSocket"/>.</summary>
    public static SshAgentProxy Start(string directory, string upstreamSocket, int uid, int gid, int mode) =>
        new(directory, upstreamSocket, uid, gid, mode);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            lock (_connections) _connections.Add(ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using var clientSocket = client;
        using var upstream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await upstream.ConnectAsync(new UnixDomainSocketEndPoint(_upstream), _stop.Token).ConfigureAwait(false);
            await using var a = new NetworkStream(clientSocket, ownsSocket: false);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            // Either side closing ends the conversation.
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The agent went away or the step ended: the connection just closes.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] open;
        lock (_connections) open = [.. _connections];
        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
