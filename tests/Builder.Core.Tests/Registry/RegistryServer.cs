using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Builder.Core.Graph;

namespace Builder.Core.Tests.Registry;

/// <summary>
/// A real Debian <c>docker-registry</c> on a free 127.0.0.1 port with its own config and storage
/// in a temp directory; killed and deleted on dispose.
/// </summary>
public sealed class RegistryServer : IDisposable
{
    private readonly Process _process;

    private RegistryServer(string directory, int port, Process process)
    {
        WorkDir = directory;
        Port = port;
        _process = process;
    }

    public string WorkDir { get; }
    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    public string StorageDir => Path.Combine(WorkDir, "storage");

    /// <summary>Plain HTTP, anonymous pull and push.</summary>
    public static RegistryServer StartPlain() => Start(_ => "");

    /// <summary>TLS with the given PEM files, htpasswd (bcrypt) Basic auth.</summary>
    public static RegistryServer StartWithBasicAuth(string certificatePem, string keyPem, string htpasswdLine) => Start(dir =>
    {
        File.WriteAllText(Path.Combine(dir, "cert.pem"), certificatePem);
        File.WriteAllText(Path.Combine(dir, "key.pem"), keyPem);
        File.WriteAllText(Path.Combine(dir, "htpasswd"), htpasswdLine + "\n");
        return $"""
              tls:
                certificate: {dir}/cert.pem
                key: {dir}/key.pem
            auth:
              htpasswd:
                realm: test-realm
                path: {dir}/htpasswd
            """;
    });

    /// <summary>Plain HTTP, Bearer token auth trusting tokens signed by the certificate in <paramref name="rootCertificatePem"/>.</summary>
    public static RegistryServer StartWithTokenAuth(string realm, string service, string issuer, string rootCertificatePem) => Start(dir =>
    {
        File.WriteAllText(Path.Combine(dir, "token-root.pem"), rootCertificatePem);
        return $"""
            auth:
              token:
                realm: {realm}
                service: {service}
                issuer: {issuer}
                rootcertbundle: {dir}/token-root.pem
            """;
    });

    /// <summary>Where the registry keeps a blob's bytes (distribution's filesystem driver layout).</summary>
    public string BlobDataPath(Digest digest) =>
        Path.Combine(StorageDir, "docker", "registry", "v2", "blobs", "sha256", digest.Hex[..2], digest.Hex, "data");

    /// <param name="extraConfig">YAML appended under the top level; lines indented two spaces continue the <c>http:</c> block.</param>
    private static RegistryServer Start(Func<string, string> extraConfig)
    {
        var dir = Path.Combine(Path.GetTempPath(), "builder-registry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var config = $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {dir}/storage
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: test-secret
            {extraConfig(dir)}
            """;
        var configPath = Path.Combine(dir, "config.yml");
        File.WriteAllText(configPath, config);

        var start = new ProcessStartInfo("docker-registry", ["serve", configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start docker-registry");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new RegistryServer(dir, port, process);
        if (!WaitUntilListening(port, process))
        {
            server.Dispose();
            lock (log) throw new InvalidOperationException($"docker-registry did not start:\n{log}");
        }
        return server;
    }

    private static bool WaitUntilListening(int port, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        return false;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { /* already gone */ }
        _process.Dispose();
        try { Directory.Delete(WorkDir, recursive: true); }
        catch (IOException) { /* best effort */ }
    }
}
