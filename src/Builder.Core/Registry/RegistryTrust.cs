using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Builder.Core.Registry;

/// <summary>
/// Decides whether to trust a registry's TLS certificate: the system trust store first, then the
/// CA certificates in <c>&lt;certs dir&gt;/&lt;host[:port]&gt;/*.crt</c> (Docker's certs.d layout),
/// which are trusted for that one registry only. The host name must match either way.
/// </summary>
internal sealed class RegistryTrust(string registryName, string certsDirectory)
{
    private readonly Lazy<X509Certificate2Collection> _registryRoots = new(() => LoadRoots(Path.Combine(certsDirectory, registryName)));

    /// <summary>Whether the registry ever presented a certificate: it speaks TLS, so falling back to plain HTTP would be wrong.</summary>
    public bool CertificatePresented { get; private set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        CertificatePresented |= certificate is not null;
        if (errors == SslPolicyErrors.None) return true;
        // A wrong host name or a missing certificate is never rescued by an extra CA.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null) return false;
        var roots = _registryRoots.Value;
        if (roots.Count == 0) return false;

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
            foreach (var element in chain.ChainElements.Skip(1))
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        return custom.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
    }

    private static X509Certificate2Collection LoadRoots(string directory)
    {
        var roots = new X509Certificate2Collection();
        if (!Directory.Exists(directory)) return roots;
        foreach (var file in Directory.EnumerateFiles(directory, "*.crt").Order(StringComparer.Ordinal))
            roots.ImportFromPemFile(file);
        return roots;
    }
}
