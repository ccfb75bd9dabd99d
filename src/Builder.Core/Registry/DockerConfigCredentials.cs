using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Builder.Core.Registry;

/// <summary>
/// Credentials in Docker's client config (<c>$DOCKER_CONFIG/config.json</c>, else
/// <c>~/.docker/config.json</c>): <c>credHelpers</c> per registry, then the default
/// <c>credsStore</c>, then base64 <c>auths</c> entries. <c>builder login</c> writes the same file
/// rather than one of its own, so <c>docker login</c>, buildx and builder share one login and the
/// user's credential helpers keep the secrets out of plain files wherever they are configured.
/// </summary>
public sealed class DockerConfigCredentials(string configPath, string? helperDirectory = null) : ICredentialStore
{
    public string ConfigPath { get; } = configPath;

    public static DockerConfigCredentials FromEnvironment() => new(DefaultConfigPath());

    public static string DefaultConfigPath()
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        return Path.Combine(dir, "config.json");
    }

    public async Task<RegistryCredentials?> GetAsync(string registryKey, CancellationToken ct)
    {
        var config = await LoadAsync(ct).ConfigureAwait(false);
        if (HelperFor(config, registryKey) is { } helper)
            return await helper.GetAsync(registryKey, ct).ConfigureAwait(false);
        return FindAuthEntry(config, registryKey) is { } entry ? DecodeAuthEntry(entry, registryKey) : null;
    }

    public async Task StoreAsync(string registryKey, RegistryCredentials credentials, CancellationToken ct)
    {
        var config = await LoadAsync(ct).ConfigureAwait(false);
        var auths = config["auths"] as JsonObject ?? new JsonObject();
        config["auths"] = auths;
        if (HelperFor(config, registryKey) is { } helper)
        {
            await helper.StoreAsync(registryKey, credentials, ct).ConfigureAwait(false);
            // As Docker does: an empty entry records that a login exists, the helper holds the secret.
            auths[registryKey] = new JsonObject();
        }
        else
        {
            auths[registryKey] = new JsonObject { ["auth"] = credentials.ToBasicParameter() };
        }
        await SaveAsync(config, ct).ConfigureAwait(false);
    }

    public async Task<bool> EraseAsync(string registryKey, CancellationToken ct)
    {
        var config = await LoadAsync(ct).ConfigureAwait(false);
        var erased = false;
        if (HelperFor(config, registryKey) is { } helper)
            erased = await helper.EraseAsync(registryKey, ct).ConfigureAwait(false);
        if (config["auths"] is JsonObject auths && FindAuthKey(auths, registryKey) is { } key)
        {
            auths.Remove(key);
            erased = true;
            await SaveAsync(config, ct).ConfigureAwait(false);
        }
        return erased;
    }

    private CredentialHelper? HelperFor(JsonObject config, string registryKey)
    {
        if (config["credHelpers"] is JsonObject helpers)
        {
            foreach (var (key, value) in helpers)
                if (Hostname(key) == Hostname(registryKey) && value?.GetValue<string>() is { Length: > 0 } name)
                    return new CredentialHelper(name, helperDirectory);
        }
        return config["credsStore"]?.GetValue<string>() is { Length: > 0 } store ? new CredentialHelper(store, helperDirectory) : null;
    }

    private static JsonObject? FindAuthEntry(JsonObject config, string registryKey) =>
        config["auths"] is JsonObject auths && FindAuthKey(auths, registryKey) is { } key ? auths[key] as JsonObject : null;

    /// <summary>Docker matches keys by host: <c>https://127.0.0.1:5000/v2/</c> and <c>127.0.0.1:5000</c> are one registry.</summary>
    private static string? FindAuthKey(JsonObject auths, string registryKey)
    {
        if (auths.ContainsKey(registryKey)) return registryKey;
        return auths.Select(pair => pair.Key).FirstOrDefault(key => Hostname(key) == Hostname(registryKey));
    }

    private static RegistryCredentials? DecodeAuthEntry(JsonObject entry, string registryKey)
    {
        if (entry["auth"]?.GetValue<string>() is { Length: > 0 } auth)
        {
            string decoded;
            try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
            catch (FormatException) { throw new RegistryException($"Docker config: the auth entry for {registryKey} is not valid base64"); }
            var colon = decoded.IndexOf(':');
            if (colon < 0) throw new RegistryException($"Docker config: the auth entry for {registryKey} is not user:password");
            return new RegistryCredentials(decoded[..colon], decoded[(colon + 1)..]);
        }
        if (entry["username"]?.GetValue<string>() is { Length: > 0 } user && entry["password"]?.GetValue<string>() is { } password)
            return new RegistryCredentials(user, password);
        return null;
    }

    private static string Hostname(string key)
    {
        var host = key;
        if (host.Contains("://", StringComparison.Ordinal)) host = host[(host.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var slash = host.IndexOf('/');
        host = slash >= 0 ? host[..slash] : host;
        return host is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : host;
    }

    private async Task<JsonObject> LoadAsync(CancellationToken ct)
    {
        if (!File.Exists(ConfigPath)) return new JsonObject();
        await using var file = File.OpenRead(ConfigPath);
        try
        {
            return await JsonNode.ParseAsync(file, cancellationToken: ct).ConfigureAwait(false) as JsonObject ?? new JsonObject();
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{ConfigPath} is not valid JSON: {e.Message}", inner: e);
        }
    }

    /// <summary>Writes a temp file readable by the owner only, then renames it over the config: never a half-written or world-readable file of secrets.</summary>
    private async Task SaveAsync(JsonObject config, CancellationToken ct)
    {
        var dir = Path.GetDirectoryName(ConfigPath)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".config.json.{Guid.NewGuid():N}");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(temp, options))
            {
                // The node writes itself: no serializer (and no reflection) needed for a JsonObject.
                await using (var writer = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
                {
                    config.WriteTo(writer);
                    await writer.FlushAsync(ct).ConfigureAwait(false);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, ConfigPath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
