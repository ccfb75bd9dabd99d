using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Builder.Core.Tests.Registry;

/// <summary>A throwaway CA and the certificates it issues, made in the test.</summary>
public sealed class TestCertificates : IDisposable
{
    public TestCertificates()
    {
        var caKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=builder test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    public X509Certificate2 Ca { get; }

    public string CaPem => Ca.ExportCertificatePem();

    /// <summary>A server certificate for 127.0.0.1 signed by the CA: (certificate PEM, private key PEM).</summary>
    public (string CertificatePem, string KeyPem) IssueServerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), Ca.NotAfter.AddMinutes(-1), RandomNumberGenerator.GetBytes(8));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Writes the CA as Docker's certs.d layout expects: <c>&lt;dir&gt;/&lt;host:port&gt;/ca.crt</c>.</summary>
    public string WriteCertsDirectory(string parent, string registry)
    {
        var dir = Path.Combine(parent, "certs.d");
        Directory.CreateDirectory(Path.Combine(dir, registry));
        File.WriteAllText(Path.Combine(dir, registry, "ca.crt"), CaPem);
        return dir;
    }

    public void Dispose() => Ca.Dispose();
}
