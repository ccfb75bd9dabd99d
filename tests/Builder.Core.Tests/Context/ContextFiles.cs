using System.Net.Sockets;

namespace Builder.Core.Tests.Context;

/// <summary>Builds a context directory for a test: files, links, fifos, sockets, owners.</summary>
public sealed class ContextFiles(string root) : IDisposable
{
    private readonly List<System.Net.Sockets.Socket> _sockets = [];

    public string Root { get; } = root;

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public ContextFiles File(string relative, string content)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return this;
    }

    /// <param name="mode">as chmod takes it: "755", "u+s".</param>
    public ContextFiles Mode(string relative, string mode) => Run("chmod", mode, PathOf(relative));

    public ContextFiles Dir(string relative)
    {
        Directory.CreateDirectory(PathOf(relative));
        return this;
    }

    public ContextFiles Symlink(string relative, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        System.IO.File.CreateSymbolicLink(PathOf(relative), target);
        return this;
    }

    public ContextFiles Delete(string relative)
    {
        System.IO.File.Delete(PathOf(relative));
        return this;
    }

    public ContextFiles Fifo(string relative) => Run("mkfifo", "-m", "644", PathOf(relative));

    /// <summary>A unix socket file, bound until the test ends (.NET deletes the file when the socket closes).</summary>
    public ContextFiles Socket(string relative)
    {
        var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _sockets.Add(socket);
        socket.Bind(new UnixDomainSocketEndPoint(PathOf(relative)));
        return this;
    }

    public void Dispose()
    {
        foreach (var socket in _sockets) socket.Dispose();
    }

    /// <summary>chown -h: changes a link itself, not its target.</summary>
    public ContextFiles Owner(string relative, uint uid, uint gid) => Run("chown", "-h", $"{uid}:{gid}", PathOf(relative));

    public ContextFiles Touch(string relative, DateTime time)
    {
        System.IO.File.SetLastWriteTimeUtc(PathOf(relative), time);
        return this;
    }

    public static bool RunningAsRoot => Environment.UserName == "root";

    private ContextFiles Run(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(program, args);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return this;
    }
}
