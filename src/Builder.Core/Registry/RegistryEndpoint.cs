using System.Net;

namespace Builder.Core.Registry;

/// <summary>
/// Where a registry named in image references (<c>docker.io</c>, <c>127.0.0.1:5000</c>) is reached:
/// the host of its API over HTTPS, and whether plain HTTP may be used when the registry does not
/// speak TLS (loopback and registries marked insecure, as Docker does). Docker Hub's API lives
/// on another host than its name.
/// </summary>
public sealed record RegistryEndpoint(string Name, Uri BaseUri, bool AllowsPlainHttp)
{
    private const string DockerHubName = "docker.io";
    private const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The key Docker's config file and credential helpers use for Docker Hub.</summary>
    public const string DockerHubCredentialKey = "https://index.docker.io/v1/";

    public Uri PlainHttpBaseUri => new UriBuilder(BaseUri) { Scheme = Uri.UriSchemeHttp, Port = BaseUri.IsDefaultPort ? -1 : BaseUri.Port }.Uri;

    /// <summary>The key under which credentials for this registry are stored in Docker's config.</summary>
    public string CredentialKey => Name == DockerHubName ? DockerHubCredentialKey : Name;

    public static RegistryEndpoint For(string registry, RegistryOptions options)
    {
        var host = registry is DockerHubName or "index.docker.io" ? DockerHubApiHost : registry;
        var name = registry == "index.docker.io" ? DockerHubName : registry;
        var plainHttp = IsLoopback(registry) || options.InsecureRegistries.Contains(registry);
        return new RegistryEndpoint(name, new Uri($"https://{host}/"), plainHttp);
    }

    /// <summary>localhost, 127.0.0.0/8 and ::1, with or without a port: traffic that never leaves the machine.</summary>
    public static bool IsLoopback(string registry)
    {
        var host = HostWithoutPort(registry);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static string HostWithoutPort(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']');
            return close > 0 ? registry[..(close + 1)] : registry;
        }
        var colon = registry.LastIndexOf(':');
        return colon > 0 ? registry[..colon] : registry;
    }
}
