namespace Builder.Core.Registry;

/// <summary>A user name and password (or token) for one registry. Printing it never shows the secret.</summary>
public sealed record RegistryCredentials(string Username, string Secret)
{
    public override string ToString() => $"{Username}:<redacted>";

    /// <summary>The value of a Basic <c>Authorization</c> header.</summary>
    public string ToBasicParameter() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Secret}"));
}

/// <summary>Where credentials come from and go to, keyed by registry name (<c>host[:port]</c>, or Docker Hub's key).</summary>
public interface ICredentialStore
{
    Task<RegistryCredentials?> GetAsync(string registryKey, CancellationToken ct);

    Task StoreAsync(string registryKey, RegistryCredentials credentials, CancellationToken ct);

    /// <summary>Returns false when nothing was stored for the registry.</summary>
    Task<bool> EraseAsync(string registryKey, CancellationToken ct);
}

/// <summary>Anonymous access only.</summary>
public sealed class NoCredentials : ICredentialStore
{
    public static readonly NoCredentials Instance = new();

    public Task<RegistryCredentials?> GetAsync(string registryKey, CancellationToken ct) => Task.FromResult<RegistryCredentials?>(null);

    public Task StoreAsync(string registryKey, RegistryCredentials credentials, CancellationToken ct) =>
        throw new InvalidOperationException("no credential store is configured");

    public Task<bool> EraseAsync(string registryKey, CancellationToken ct) => Task.FromResult(false);
}
