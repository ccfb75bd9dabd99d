using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Builder.Core.Tests.Registry;

/// <summary>
/// A token service as distribution's token auth expects one: checks Basic credentials, then
/// issues an RS256 JWT for exactly the scopes asked, signed by a key whose certificate travels
/// in the <c>x5c</c> header and is trusted by the registry's <c>rootcertbundle</c>.
/// </summary>
public sealed class TokenService : IDisposable
{
    public const string Service = "test-registry";
    public const string Issuer = "test-token-issuer";

    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly string _username;
    private readonly string _password;
    private readonly Task _serving;
    private int _tokensIssued;

    public TokenService(string username, string password)
    {
        _username = username;
        _password = password;
        var request = new CertificateRequest("CN=test token signer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Port = RegistryServer.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string Realm => $"http://127.0.0.1:{Port}/token";
    public string CertificatePem => _certificate.ExportCertificatePem();
    public int TokensIssued => Volatile.Read(ref _tokensIssued);
    public List<string> ScopesRequested { get; } = [];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        using var response = context.Response;
        if (!HasValidCredentials(context.Request))
        {
            response.StatusCode = 401;
            return;
        }
        var scopes = context.Request.QueryString.GetValues("scope") ?? [];
        lock (ScopesRequested) ScopesRequested.AddRange(scopes);
        var token = IssueToken(context.Request.QueryString["service"] ?? "", scopes);
        Interlocked.Increment(ref _tokensIssued);
        var body = JsonSerializer.SerializeToUtf8Bytes(new { token, expires_in = 300, issued_at = DateTimeOffset.UtcNow });
        response.ContentType = "application/json";
        response.OutputStream.Write(body);
    }

    private bool HasValidCredentials(HttpListenerRequest request)
    {
        var header = request.Headers["Authorization"];
        if (header is null || !header.StartsWith("Basic ", StringComparison.Ordinal)) return false;
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        return decoded == $"{_username}:{_password}";
    }

    private string IssueToken(string audience, IEnumerable<string> scopes)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) } };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = _username,
            ["aud"] = audience,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = scopes.Select(ParseScope).ToArray(),
        };
        var signingInput = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(header))}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    /// <summary><c>repository:name:pull,push</c> → the JWT access entry granting those actions.</summary>
    private static object ParseScope(string scope)
    {
        var first = scope.IndexOf(':');
        var last = scope.LastIndexOf(':');
        return new { type = scope[..first], name = scope[(first + 1)..last], actions = scope[(last + 1)..].Split(',') };
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _certificate.Dispose();
        _key.Dispose();
    }
}
