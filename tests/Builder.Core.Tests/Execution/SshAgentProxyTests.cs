using System.Net.Sockets;
using System.Text;
using Builder.Core.Execution;

namespace Builder.Core.Tests.Execution;

public sealed class SshAgentProxyTests
{
    [Fact]
    public async Task Connections_to_the_proxy_reach_the_agent_and_the_socket_has_the_asked_owner_and_mode()
    {
        var dir = Directory.CreateTempSubdirectory("builder-agent-test-").FullName;
        try
        {
            var agentPath = Path.Combine(dir, "agent");
            using var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            agent.Bind(new UnixDomainSocketEndPoint(agentPath));
            agent.Listen(1);
            var served = Task.Run(async () =>
            {
                using var connection = await agent.AcceptAsync();
                var buffer = new byte[64];
                var read = await connection.ReceiveAsync(buffer);
                await connection.SendAsync(Encoding.ASCII.GetBytes("agent saw " + Encoding.ASCII.GetString(buffer, 0, read)));
            });

            await using var proxy = SshAgentProxy.Start(Path.Combine(dir, "proxy"), agentPath, uid: 1000, gid: 1001, mode: Convert.ToInt32("660", 8));
            var status = Builder.Core.Filesystem.Native.LStat(proxy.SocketPath);
            Assert.Equal((1000u, 1001u), (status.Uid, status.Gid));
            Assert.Equal(Convert.ToInt32("660", 8), (int)(status.Mode & 0xFFF));

            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(proxy.SocketPath));
            await client.SendAsync("hello"u8.ToArray());
            var reply = new byte[64];
            var n = await client.ReceiveAsync(reply, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("agent saw hello", Encoding.ASCII.GetString(reply, 0, n));
            await served;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Disposing_removes_the_socket_directory()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("builder-agent-test-").FullName, "proxy");
        var proxy = SshAgentProxy.Start(dir, "/nonexistent/agent", 0, 0, Convert.ToInt32("600", 8));
        Assert.True(File.Exists(proxy.SocketPath));
        await proxy.DisposeAsync();
        Assert.False(Directory.Exists(dir));
        Directory.Delete(Path.GetDirectoryName(dir)!);
    }
}
