namespace Builder.Core.Registry;

/// <summary>How builder talks to registries: which hosts are plain HTTP, where extra CAs live, how hard to retry.</summary>
public sealed record RegistryOptions
{
    public const string DefaultCertsDirectory = "/etc/builder/certs.d";

    /// <summary>Registries (<c>host[:port]</c>) reached over plain HTTP. Loopback hosts always are, as Docker does.</summary>
    public IReadOnlySet<string> InsecureRegistries { get; init; } = new HashSet<string>();

    /// <summary>Per-registry trust: <c>&lt;dir&gt;/&lt;host[:port]&gt;/ca.crt</c> (and any other <c>*.crt</c>) is trusted for that registry, on top of the system store.</summary>
    public string CertsDirectory { get; init; } = DefaultCertsDirectory;

    public ICredentialStore Credentials { get; init; } = NoCredentials.Instance;

    /// <summary>Tries per request, counting the first, for 5xx, 429 and dropped connections.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The first retry waits this long; each further retry waits twice as long (unless the registry says Retry-After).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Blobs downloaded or uploaded at once per image.</summary>
    public int MaxConcurrentTransfers { get; init; } = 4;

    /// <summary>Wraps the transport of each registry, to observe traffic (request counting in tests, tracing).</summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; init; }

    /// <summary>
    /// Settings from the environment: <c>BUILDER_INSECURE_REGISTRIES</c> (comma-separated host[:port]),
    /// <c>BUILDER_CERTS_DIR</c>, and credentials from Docker's config file.
    /// </summary>
    public static RegistryOptions FromEnvironment() => new()
    {
        InsecureRegistries = (Environment.GetEnvironmentVariable("BUILDER_INSECURE_REGISTRIES") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.OrdinalIgnoreCase),
        CertsDirectory = Environment.GetEnvironmentVariable("BUILDER_CERTS_DIR") is { Length: > 0 } dir ? dir : DefaultCertsDirectory,
        Credentials = DockerConfigCredentials.FromEnvironment(),
    };
}
