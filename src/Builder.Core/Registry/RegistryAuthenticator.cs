using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Registry;

/// <summary>
/// Answers a registry's 401 challenges and remembers the answer: Basic credentials, or Bearer
/// tokens fetched from the challenge's realm and cached per scope until they expire. Requests
/// start anonymous; only after the registry asks do credentials leave the machine, and then
/// only to the registry or the realm it named.
/// </summary>
internal sealed class RegistryAuthenticator(RegistryEndpoint endpoint, ICredentialStore credentialStore, HttpClient http, TimeProvider clock)
{
    // Tokens are renewed a little before they expire so a request never goes out with a token that lapses in flight.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);
    // The token spec's default when a token service omits expires_in.
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new();
    // One token fetch per scope at a time: parallel blob requests that all met the same 401 share one token.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _tokenFetches = new();
    private readonly SemaphoreSlim _credentialsLoaded = new(1, 1);
    private AuthChallenge? _challenge;
    private RegistryCredentials? _credentials;
    private bool _credentialsRead;

    /// <summary>The Authorization header to send for <paramref name="scope"/>, from what earlier challenges taught; null means go anonymous.</summary>
    public AuthenticationHeaderValue? HeaderFor(string scope)
    {
        var challenge = _challenge;
        if (challenge is null) return null;
        if (challenge.IsBasic && _credentials is { } credentials)
            return new AuthenticationHeaderValue("Basic", credentials.ToBasicParameter());
        if (challenge.IsBearer && ValidToken(scope) is { } token)
            return new AuthenticationHeaderValue("Bearer", token);
        return null;
    }

    /// <summary>A live token for the scope, or for the same repository with push added (it grants pull too).</summary>
    private string? ValidToken(string scope)
    {
        var now = clock.GetUtcNow();
        if (_tokens.TryGetValue(scope, out var exact) && exact.ValidUntil > now) return exact.Token;
        if (scope.EndsWith(":pull", StringComparison.Ordinal) && !scope.Contains(' ')
            && _tokens.TryGetValue(scope + ",push", out var wider) && wider.ValidUntil > now)
            return wider.Token;
        return null;
    }

    /// <summary>
    /// Learns from a 401 how to authenticate for <paramref name="scope"/>. Returns true when the
    /// request is worth repeating (there is now something new to send), false when there is not.
    /// </summary>
    public async Task<bool> AnswerChallengeAsync(HttpResponseMessage unauthorized, string scope, CancellationToken ct)
    {
        var challenge = AuthChallenge.Choose(unauthorized.Headers.WwwAuthenticate);
        if (challenge is null) return false;
        _challenge = challenge;
        var credentials = await LoadCredentialsAsync(ct).ConfigureAwait(false);
        if (challenge.IsBasic) return credentials is not null;
        if (!challenge.IsBearer) return false;

        var fetch = _tokenFetches.GetOrAdd(scope, _ => new SemaphoreSlim(1, 1));
        await fetch.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Someone else may have fetched it while this request waited for its 401.
            if (ValidToken(scope) is null)
                _tokens[scope] = await FetchTokenAsync(challenge, scope, credentials, ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            fetch.Release();
        }
    }

    public async Task<RegistryCredentials?> LoadCredentialsAsync(CancellationToken ct)
    {
        if (_credentialsRead) return _credentials;
        await _credentialsLoaded.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_credentialsRead)
            {
                _credentials = await credentialStore.GetAsync(endpoint.CredentialKey, ct).ConfigureAwait(false);
                _credentialsRead = true;
            }
            return _credentials;
        }
        finally
        {
            _credentialsLoaded.Release();
        }
    }

    /// <summary>Uses these credentials instead of the stored ones (login checks them before storing).</summary>
    public void UseCredentials(RegistryCredentials credentials)
    {
        _credentials = credentials;
        _credentialsRead = true;
    }

    private async Task<CachedToken> FetchTokenAsync(AuthChallenge challenge, string scope, RegistryCredentials? credentials, CancellationToken ct)
    {
        var realm = challenge.Parameter("realm") is { Length: > 0 } r && Uri.TryCreate(r, UriKind.Absolute, out var uri)
            ? uri
            : throw new RegistryException($"{endpoint.Name}: the registry asked for a Bearer token but named no valid realm");
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenUri(realm, challenge.Parameter("service"), scope));
        if (credentials is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials.ToBasicParameter());

        var requestedAt = clock.GetUtcNow();
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            var who = credentials is null ? "anonymous access was refused" : "the stored credentials were rejected";
            throw new RegistryException($"{endpoint.Name}: authentication failed at token service {realm.GetLeftPart(UriPartial.Authority)}: {who} ({(int)response.StatusCode})", response.StatusCode);
        }
        if (!response.IsSuccessStatusCode)
            throw new RegistryException($"{endpoint.Name}: token service {realm.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} {response.ReasonPhrase}", response.StatusCode);

        var reply = await response.Content.ReadFromJsonAsync(RegistryJson.Default.TokenReply, ct).ConfigureAwait(false);
        var token = reply?.Token is { Length: > 0 } t ? t : reply?.AccessToken;
        if (string.IsNullOrEmpty(token))
            throw new RegistryException($"{endpoint.Name}: token service {realm.GetLeftPart(UriPartial.Authority)} returned no token");

        var lifetime = reply!.ExpiresIn is > 0 ? TimeSpan.FromSeconds(reply.ExpiresIn.Value) : DefaultTokenLifetime;
        var issuedAt = reply.IssuedAt ?? requestedAt;
        return new CachedToken(token, issuedAt + lifetime - ExpiryMargin);
    }

    private static Uri TokenUri(Uri realm, string? service, string scope)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(service)) query.Add("service=" + Uri.EscapeDataString(service));
        // Several scopes (a cross-repository mount needs two repositories) are repeated parameters.
        foreach (var part in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            query.Add("scope=" + Uri.EscapeDataString(part));
        var builder = new UriBuilder(realm);
        var existing = builder.Query.TrimStart('?');
        builder.Query = string.Join('&', (existing.Length > 0 ? [existing] : Array.Empty<string>()).Concat(query));
        return builder.Uri;
    }

    private sealed record CachedToken(string Token, DateTimeOffset ValidUntil);
}

/// <summary>A token service's answer (Docker's token spec); either field may carry the token.</summary>
internal sealed record TokenReply(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] int? ExpiresIn,
    [property: JsonPropertyName("issued_at")] DateTimeOffset? IssuedAt);
