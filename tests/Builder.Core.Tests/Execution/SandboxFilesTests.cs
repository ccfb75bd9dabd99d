using Builder.Core.Execution;

namespace Builder.Core.Tests.Execution;

public class SandboxFilesTests
{
    [Fact]
    public void HostsNamesLocalhostAndTheSandbox()
    {
        Assert.Equal("127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n", SandboxFiles.Hosts("box"));
    }

    [Fact]
    public void HostNetworkKeepsTheHostsResolverEvenALocalStub()
    {
        const string stub = "nameserver 127.0.0.53\noptions edns0\n";
        Assert.Equal(stub, SandboxFiles.ResolvConf(stub, NetworkMode.Host));
    }

    [Fact]
    public void OwnNetworkDropsLoopbackNameserversAndFallsBackToDefaults()
    {
        var text = SandboxFiles.ResolvConf("nameserver 127.0.0.53\noptions edns0\n", NetworkMode.None);
        Assert.DoesNotContain("127.0.0.53", text);
        Assert.Contains("options edns0", text);
        Assert.Contains("nameserver 8.8.8.8", text);
    }

    [Fact]
    public void OwnNetworkKeepsRealNameservers()
    {
        Assert.Equal("nameserver 10.0.0.2\n", SandboxFiles.ResolvConf("nameserver 10.0.0.2\n", NetworkMode.None));
    }

    [Fact]
    public void MissingHostFileGivesDefaults()
    {
        Assert.StartsWith("nameserver 8.8.8.8", SandboxFiles.ResolvConf(null, NetworkMode.Host));
    }
}
