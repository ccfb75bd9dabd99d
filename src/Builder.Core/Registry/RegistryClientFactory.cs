using System.Collections.Concurrent;

namespace Builder.Core.Registry;

/// <summary>
/// One <see cref="RegistryClient"/> per registry for the life of this object, so connections,
/// learned auth challenges and cached tokens are shared by every pull and push that goes there.
/// </summary>
public sealed class RegistryClientFactory(RegistryOptions options, TimeProvider? clock = null) : IDisposable
{
    private static readonly string UserAgent = "builder/" + (typeof(RegistryClientFactory).Assembly.GetName().Version?.ToString(3) ?? "0");

    private readonly ConcurrentDictionary<string, Lazy<(RegistryClient Client, HttpClient Http)>> _clients = new(StringComparer.OrdinalIgnoreCase);

    public RegistryOptions Options { get; } = options;

    /// <summary>The client for a registry as named in image references (<c>docker.io</c>, <c>127.0.0.1:5000</c>).</summary>
    public RegistryClient For(string registry) => _clients.GetOrAdd(registry, name => new(() => Create(name))).Value.Client;

    private (RegistryClient, HttpClient) Create(string registry)
    {
        var endpoint = RegistryEndpoint.For(registry, Options);
        var transport = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            // Connections are reused, but not forever: a registry behind DNS load balancing moves.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        var trust = new RegistryTrust(endpoint.Name, Options.CertsDirectory);
        transport.SslOptions.RemoteCertificateValidationCallback = trust.Validate;
        var http = new HttpClient(Options.WrapHandler?.Invoke(transport) ?? transport)
        {
            // Layers can take long; callers bound time with their cancellation token instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        var auth = new RegistryAuthenticator(endpoint, Options.Credentials, http, clock ?? TimeProvider.System);
        return (new RegistryClient(endpoint, http, auth, trust, Options), http);
    }

    public void Dispose()
    {
        foreach (var lazy in _clients.Values)
            if (lazy.IsValueCreated) lazy.Value.Http.Dispose();
        _clients.Clear();
    }
}
