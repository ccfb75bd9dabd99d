using System.Net;

namespace Builder.Core.Execution;

/// <summary>
/// The /etc/hosts and /etc/resolv.conf a sandbox sees. They are written into the bundle directory
/// and bind-mounted read-only over the image's own files, so a RUN step never writes the build
/// host's name resolution into a layer (BuildKit does the same).
/// </summary>
internal sealed record SandboxFiles(string HostsPath, string ResolvConfPath)
{
    public const string HostResolvConf = "/etc/resolv.conf";

    // Used when the host has no usable resolver for the sandbox (Docker's fallback).
    private const string DefaultResolvConf = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";

    public static async Task<SandboxFiles> WriteAsync(string bundleDir, string hostname, NetworkMode network, string hostResolvConf, CancellationToken ct)
    {
        var files = new SandboxFiles(Path.Combine(bundleDir, "hosts"), Path.Combine(bundleDir, "resolv.conf"));
        await File.WriteAllTextAsync(files.HostsPath, Hosts(hostname), ct);
        var hostFile = File.Exists(hostResolvConf) ? await File.ReadAllTextAsync(hostResolvConf, ct) : null;
        await File.WriteAllTextAsync(files.ResolvConfPath, ResolvConf(hostFile, network), ct);
        return files;
    }

    public static string Hosts(string hostname) =>
        $"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n";

    /// <summary>
    /// In the host's network namespace the host's resolver works as is, even a local stub such as
    /// systemd-resolved on 127.0.0.53. In a namespace of its own, loopback means the sandbox
    /// itself, so loopback nameservers are dropped and a public default stands in if none remain.
    /// </summary>
    public static string ResolvConf(string? hostFile, NetworkMode network)
    {
        if (hostFile is null)
            return DefaultResolvConf;
        if (network == NetworkMode.Host)
            return hostFile;

        var kept = hostFile.Split('\n').Where(line => !IsLoopbackNameserver(line)).ToList();
        var text = string.Join('\n', kept);
        return kept.Any(IsNameserver) ? text : text.TrimEnd('\n') + "\n" + DefaultResolvConf;
    }

    private static bool IsNameserver(string line) => NameserverAddress(line) is not null;

    private static bool IsLoopbackNameserver(string line) =>
        NameserverAddress(line) is { } address && IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip);

    private static string? NameserverAddress(string line)
    {
        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && fields[0] == "nameserver" ? fields[1] : null;
    }
}
