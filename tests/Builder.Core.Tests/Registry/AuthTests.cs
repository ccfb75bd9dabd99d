using Builder.Core.Oci;
using Builder.Core.Registry;

namespace Builder.Core.Tests.Registry;

/// <summary>A registry with htpasswd Basic auth behind TLS whose certificate comes from a CA made here.</summary>
public sealed class BasicAuthOverTlsTests : IDisposable
{
    private const string User = "tester";
    private const string Password = "Corr3ct-Horse-Battery";
    // bcrypt of Password (htpasswd -nbB), so the test needs no htpasswd binary.
    private const string HtpasswdLine = "tester:$2y$05$KONmBEko8CAMYI8MijpMMOgqljPEMZI5NujzuK6kjWytANwuwpV3a";

    private readonly TestCertificates _certificates = new();
    private readonly RegistryServer _server;
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "builder-auth-" + Guid.NewGuid().ToString("N"));

    public BasicAuthOverTlsTests()
    {
        var (cert, key) = _certificates.IssueServerCertificate();
        _server = RegistryServer.StartWithBasicAuth(cert, key, HtpasswdLine);
        Directory.CreateDirectory(_scratch);
    }

    private ImageReference Ref(string repository) => ImageReference.Parse($"{_server.Address}/{repository}:v1");

    private RegistryOptions Options(string password, bool trustCa = true) => new()
    {
        CertsDirectory = trustCa ? _certificates.WriteCertsDirectory(_scratch, _server.Address) : Path.Combine(_scratch, "empty-certs.d"),
        Credentials = StoreWith(password),
    };

    private DockerConfigCredentials StoreWith(string password)
    {
        var store = new DockerConfigCredentials(Path.Combine(_scratch, Guid.NewGuid().ToString("N"), "config.json"));
        store.StoreAsync(_server.Address, new RegistryCredentials(User, password), CancellationToken.None).GetAwaiter().GetResult();
        return store;
    }

    [Fact]
    public async Task The_right_password_pushes_and_pulls_over_TLS()
    {
        using var side = new RegistrySide(Options(Password));
        var image = await TestImages.CreateAsync(side.Content);
        await side.Pusher().PushAsync(image, Ref("secured"), null, CancellationToken.None);

        using var puller = new RegistrySide(Options(Password));
        var resolved = await puller.Resolver().ResolveAsync(Ref("secured").ToString(), Platform.Host, CancellationToken.None);
        await puller.Resolver().EnsureLayersAsync(resolved, CancellationToken.None);

        Assert.Equal(image.Digest, resolved.ManifestDigest);
        Assert.DoesNotContain(side.Traffic.Requests, r => r.StartsWith("http://", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Login_checks_the_password_with_the_registry()
    {
        using var side = new RegistrySide(Options(Password));
        await side.Registries.For(_server.Address).LoginAsync(new RegistryCredentials(User, Password), CancellationToken.None);

        using var wrong = new RegistrySide(Options(Password));
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            wrong.Registries.For(_server.Address).LoginAsync(new RegistryCredentials(User, "not-" + Password), CancellationToken.None));
        Assert.Contains("login to " + _server.Address + " failed", error.Message);
        Assert.DoesNotContain(Password, error.ToString());
    }

    [Fact]
    public async Task A_wrong_password_is_a_clear_error_that_never_shows_the_password()
    {
        var wrongPassword = "Wr0ng-" + Guid.NewGuid().ToString("N");
        using var side = new RegistrySide(Options(wrongPassword));
        var image = await TestImages.CreateAsync(side.Content);

        var error = await Assert.ThrowsAsync<RegistryException>(() => side.Pusher().PushAsync(image, Ref("denied"), null, CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.Status);
        Assert.Contains($"{_server.Address}/denied", error.Message);
        Assert.Contains("builder login", error.Message);
        Assert.DoesNotContain(wrongPassword, error.ToString());
        Assert.DoesNotContain(Password, error.ToString());
        AssertNoFileContains(side.RootPath, wrongPassword);
        AssertNoFileContains(side.RootPath, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{User}:{wrongPassword}")));
    }

    [Fact]
    public async Task Without_the_CA_the_TLS_registry_is_refused_not_downgraded_to_HTTP()
    {
        using var side = new RegistrySide(Options(Password, trustCa: false));

        var error = await Assert.ThrowsAsync<RegistryException>(() => side.Resolver().ResolveAsync(Ref("anything").ToString(), Platform.Host, CancellationToken.None));

        Assert.Contains("TLS", error.Message);
        Assert.DoesNotContain(side.Traffic.Requests, r => r.Contains("/manifests/", StringComparison.Ordinal));
    }

    private static void AssertNoFileContains(string directory, string secret)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            Assert.False(File.ReadAllText(file).Contains(secret, StringComparison.Ordinal), $"{file} contains the secret");
    }

    public void Dispose()
    {
        _server.Dispose();
        _certificates.Dispose();
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A registry with token auth and a token service issuing real RS256 JWTs it trusts.</summary>
public sealed class BearerTokenTests : IDisposable
{
    private const string User = "robot";
    private const string Password = "t0ken-service-Secret";

    private readonly TokenService _tokens = new(User, Password);
    private readonly RegistryServer _server;
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "builder-token-" + Guid.NewGuid().ToString("N"));

    public BearerTokenTests()
    {
        _server = RegistryServer.StartWithTokenAuth(_tokens.Realm, TokenService.Service, TokenService.Issuer, _tokens.CertificatePem);
        Directory.CreateDirectory(_scratch);
    }

    private ImageReference Ref(string repository) => ImageReference.Parse($"{_server.Address}/{repository}:v1");

    private RegistryOptions Options(string password)
    {
        var store = new DockerConfigCredentials(Path.Combine(_scratch, Guid.NewGuid().ToString("N"), "config.json"));
        store.StoreAsync(_server.Address, new RegistryCredentials(User, password), CancellationToken.None).GetAwaiter().GetResult();
        return new RegistryOptions { Credentials = store };
    }

    [Fact]
    public async Task Push_and_pull_with_tokens_from_the_token_service_cached_per_scope()
    {
        using var side = new RegistrySide(Options(Password));
        var image = await TestImages.CreateAsync(side.Content, layerCount: 3);
        await side.Pusher().PushAsync(image, Ref("tokened"), null, CancellationToken.None);
        var tokensForPush = _tokens.TokensIssued;

        using var puller = new RegistrySide(Options(Password));
        var resolved = await puller.Resolver().ResolveAsync(Ref("tokened").ToString(), Platform.Host, CancellationToken.None);
        await puller.Resolver().EnsureLayersAsync(resolved, CancellationToken.None);

        Assert.Equal(image.Digest, resolved.ManifestDigest);
        // At most one token per scope (pull for the existence checks, pull,push for uploads), never one per request.
        Assert.InRange(tokensForPush, 1, 2);
        Assert.Contains("repository:tokened:pull,push", _tokens.ScopesRequested);
        Assert.Contains("repository:tokened:pull", _tokens.ScopesRequested);
        Assert.Equal(1, _tokens.TokensIssued - tokensForPush);
    }

    [Fact]
    public async Task A_wrong_password_at_the_token_service_is_a_clear_error_without_the_password()
    {
        var wrong = "n0t-" + Password;
        using var side = new RegistrySide(Options(wrong));

        var error = await Assert.ThrowsAsync<RegistryException>(() => side.Resolver().ResolveAsync(Ref("tokened").ToString(), Platform.Host, CancellationToken.None));

        Assert.Contains(_server.Address, error.Message);
        Assert.Contains("rejected", error.Message);
        Assert.DoesNotContain(wrong, error.ToString());
    }

    public void Dispose()
    {
        _server.Dispose();
        _tokens.Dispose();
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }
}
