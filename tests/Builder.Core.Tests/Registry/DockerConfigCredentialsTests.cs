using Builder.Core.Registry;

namespace Builder.Core.Tests.Registry;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DockerConfigCredentialsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "builder-dockercfg-" + Guid.NewGuid().ToString("N"));
    private string ConfigPath => Path.Combine(_dir, "config.json");

    public DockerConfigCredentialsTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public async Task Reads_base64_auths_entries_matching_by_host()
    {
        var auth = Convert.ToBase64String("alice:pa:ss"u8.ToArray());
        await File.WriteAllTextAsync(ConfigPath, """{"auths":{"https://registry.example:5000/v2/":{"auth":"AUTH"}}}""".Replace("AUTH", auth));

        var credentials = await new DockerConfigCredentials(ConfigPath).GetAsync("registry.example:5000", CancellationToken.None);

        Assert.Equal(new RegistryCredentials("alice", "pa:ss"), credentials);
        Assert.DoesNotContain("pa:ss", credentials!.ToString());
    }

    [Fact]
    public async Task Store_keeps_other_settings_writes_owner_only_and_erase_removes_the_entry()
    {
        await File.WriteAllTextAsync(ConfigPath, """{"psFormat":"table","auths":{"other.example":{"auth":"eDp5"}}}""");
        var store = new DockerConfigCredentials(ConfigPath);

        await store.StoreAsync("127.0.0.1:5000", new RegistryCredentials("bob", "secret"), CancellationToken.None);

        var text = await File.ReadAllTextAsync(ConfigPath);
        Assert.Contains("\"psFormat\"", text);
        Assert.Contains("other.example", text);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigPath));
        Assert.Equal(new RegistryCredentials("bob", "secret"), await store.GetAsync("127.0.0.1:5000", CancellationToken.None));

        Assert.True(await store.EraseAsync("127.0.0.1:5000", CancellationToken.None));
        Assert.Null(await store.GetAsync("127.0.0.1:5000", CancellationToken.None));
        Assert.False(await store.EraseAsync("127.0.0.1:5000", CancellationToken.None));
    }

    [Fact]
    public async Task A_credential_helper_is_run_with_the_server_on_stdin()
    {
        // A helper in Docker's protocol: `get` reads the server URL from stdin, answers JSON.
        var helper = Path.Combine(_dir, "docker-credential-fake");
        await File.WriteAllTextAsync(helper, """
            #!/bin/sh
            read server
            if [ "$1" = get ] && [ "$server" = "registry.example" ]; then
              printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$server"
            else
              echo "credentials not found in native keychain"; exit 1
            fi
            """);
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(ConfigPath, """{"credHelpers":{"registry.example":"fake"}, "credsStore":"fake"}""");
        var store = new DockerConfigCredentials(ConfigPath, helperDirectory: _dir);

        Assert.Equal(new RegistryCredentials("helper-user", "helper-secret"), await store.GetAsync("registry.example", CancellationToken.None));
        Assert.Null(await store.GetAsync("elsewhere.example", CancellationToken.None));
    }

    [Fact]
    public void Docker_Hub_and_loopback_endpoints_are_what_Docker_uses()
    {
        var hub = RegistryEndpoint.For("docker.io", new RegistryOptions());
        Assert.Equal(new Uri("https://registry-1.docker.io/"), hub.BaseUri);
        Assert.Equal("https://index.docker.io/v1/", hub.CredentialKey);
        Assert.False(hub.AllowsPlainHttp);
        Assert.True(RegistryEndpoint.For("127.0.0.1:5000", new RegistryOptions()).AllowsPlainHttp);
        Assert.True(RegistryEndpoint.For("localhost:5000", new RegistryOptions()).AllowsPlainHttp);
        Assert.True(RegistryEndpoint.For("[::1]:5000", new RegistryOptions()).AllowsPlainHttp);
        Assert.False(RegistryEndpoint.For("registry.example", new RegistryOptions()).AllowsPlainHttp);
        Assert.True(RegistryEndpoint.For("registry.example", new RegistryOptions { InsecureRegistries = new HashSet<string> { "registry.example" } }).AllowsPlainHttp);
    }

    [Fact]
    public void Challenges_parse_quoted_parameters_with_commas()
    {
        var parameters = AuthChallenge.ParseParameters("""realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push" """);
        Assert.Equal("https://auth.example/token", parameters["realm"]);
        Assert.Equal("registry.example", parameters["service"]);
        Assert.Equal("repository:a/b:pull,push", parameters["scope"]);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
