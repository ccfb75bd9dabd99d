using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Registry;

/// <summary>
/// Runs a Docker credential helper (<c>docker-credential-&lt;name&gt;</c>) with its protocol:
/// the verb as argument, the server URL (or a JSON record, for store) on stdin, JSON on stdout.
/// </summary>
public sealed class CredentialHelper(string name, string? searchDirectory = null)
{
    // The helpers' own words for "nothing stored here"; anything else is a real failure.
    private const string NotFoundMessage = "credentials not found in native keychain";

    public string ProgramName => "docker-credential-" + name;

    public async Task<RegistryCredentials?> GetAsync(string serverUrl, CancellationToken ct)
    {
        var (exitCode, output, errors) = await RunAsync("get", serverUrl, ct).ConfigureAwait(false);
        if (exitCode != 0)
        {
            if (SaysNotFound(output, errors)) return null;
            throw new RegistryException($"credential helper {ProgramName} failed to get credentials for {serverUrl} (exit code {exitCode})");
        }
        var reply = JsonSerializer.Deserialize(output, RegistryJson.Default.HelperRecord)
            ?? throw new RegistryException($"credential helper {ProgramName} returned no credentials for {serverUrl}");
        return string.IsNullOrEmpty(reply.Secret) ? null : new RegistryCredentials(reply.Username ?? "", reply.Secret);
    }

    public async Task StoreAsync(string serverUrl, RegistryCredentials credentials, CancellationToken ct)
    {
        var record = JsonSerializer.Serialize(new HelperRecord(serverUrl, credentials.Username, credentials.Secret), RegistryJson.Default.HelperRecord);
        var (exitCode, _, _) = await RunAsync("store", record, ct).ConfigureAwait(false);
        if (exitCode != 0) throw new RegistryException($"credential helper {ProgramName} failed to store credentials for {serverUrl} (exit code {exitCode})");
    }

    public async Task<bool> EraseAsync(string serverUrl, CancellationToken ct)
    {
        var (exitCode, output, errors) = await RunAsync("erase", serverUrl, ct).ConfigureAwait(false);
        if (exitCode == 0) return true;
        if (SaysNotFound(output, errors)) return false;
        throw new RegistryException($"credential helper {ProgramName} failed to erase credentials for {serverUrl} (exit code {exitCode})");
    }

    /// <summary>
    /// Runs the helper; stdout is returned to the caller and never put into messages, since for
    /// <c>get</c> it holds the secret. The exit code and the helper's name are enough to report.
    /// </summary>
    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(string verb, string input, CancellationToken ct)
    {
        var start = new ProcessStartInfo(ResolveProgram(), verb)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new RegistryException($"could not start credential helper {ProgramName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RegistryException($"credential helper {ProgramName} is configured in Docker's config but cannot be run: {e.Message}", inner: e);
        }
        using (process)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), ct).ConfigureAwait(false);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    // Helpers report "not found" on stdout or stderr depending on the helper.
    private static bool SaysNotFound(string output, string errors) =>
        output.Contains(NotFoundMessage, StringComparison.OrdinalIgnoreCase) || errors.Contains(NotFoundMessage, StringComparison.OrdinalIgnoreCase);

    private string ResolveProgram() =>
        searchDirectory is null ? ProgramName : Path.Combine(searchDirectory, ProgramName);
}

/// <summary>What a credential helper reads (store) and writes (get).</summary>
internal sealed record HelperRecord(
    [property: JsonPropertyName("ServerURL")] string? ServerUrl,
    [property: JsonPropertyName("Username")] string? Username,
    [property: JsonPropertyName("Secret")] string? Secret);
