namespace Builder.Core.Solver;

/// <summary>
/// Build secrets the client offers to one build (<c>--secret id=…</c>). Values are fetched only when a
/// RUN step mounts them and are never stored, hashed into a key or logged by the engine.
/// </summary>
public interface ISecretProvider
{
    /// <summary>The secret's bytes, or null when the client has no secret of that id.</summary>
    ValueTask<byte[]?> GetAsync(string id, CancellationToken ct);
}

/// <summary>Where a client-side secret comes from: a file, or an environment variable of the client.</summary>
public sealed record SecretSource(string Id, string? FilePath = null, string? EnvironmentVariable = null);

/// <summary>Secrets read from the client's files and environment at the moment a step asks for them.</summary>
public sealed class SecretSources(IEnumerable<SecretSource> sources) : ISecretProvider
{
    public static SecretSources None { get; } = new([]);

    private readonly Dictionary<string, SecretSource> _sources = sources.GroupBy(s => s.Id).ToDictionary(g => g.Key, g => g.Last());

    public async ValueTask<byte[]?> GetAsync(string id, CancellationToken ct)
    {
        if (!_sources.TryGetValue(id, out var source)) return null;
        if (source.FilePath is { } file)
        {
            try { return await File.ReadAllBytesAsync(file, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"secret {id}: cannot read {file}: {e.Message}", e);
            }
        }
        return source.EnvironmentVariable is { } name && Environment.GetEnvironmentVariable(name) is { } value
            ? System.Text.Encoding.UTF8.GetBytes(value)
            : null;
    }
}

/// <summary>Rights a build must be granted explicitly (<c>--allow</c>), as BuildKit names them.</summary>
public static class Entitlements
{
    public const string SecurityInsecure = "security.insecure";
    public const string NetworkHost = "network.host";
}
