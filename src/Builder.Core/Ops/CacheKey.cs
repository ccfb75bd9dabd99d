using Builder.Core.Graph;

namespace Builder.Core.Ops;

/// <summary>
/// How every op's cache key is formed: the op's canonical encoding, then one line per input
/// naming what of that input the op depends on (its key, or a checksum of the paths it reads).
/// Unlike a vertex digest, which hashes the inputs' definitions, a key hashes the inputs' content,
/// so two different graphs that produce the same files share cache.
/// </summary>
internal static class CacheKey
{
    public static Digest Of(Op op, IEnumerable<string> inputParts)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(CanonicalEncoding.Encode(op));
        foreach (var part in inputParts)
        {
            hash.AppendData("\n"u8);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(part));
        }
        return Digest.FromSha256Hash(hash.GetHashAndReset());
    }

    public static Digest Of(Op op, IEnumerable<Digest> inputKeys) => Of(op, inputKeys.Select(k => k.ToString()));
}
