using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Graph;

/// <summary>
/// A content digest such as <c>sha256:4f…</c>: the one way this project names content —
/// blobs, layers, vertices and cache keys alike.
/// </summary>
[JsonConverter(typeof(DigestJsonConverter))]
public readonly record struct Digest
{
    public const string Sha256Algorithm = "sha256";

    public string Algorithm { get; }
    public string Hex { get; }

    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public static Digest Sha256(ReadOnlySpan<byte> data) =>
        FromSha256Hash(SHA256.HashData(data));

    public static Digest Sha256(string text) =>
        Sha256(System.Text.Encoding.UTF8.GetBytes(text));

    public static async Task<Digest> Sha256Async(Stream stream, CancellationToken ct) =>
        FromSha256Hash(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));

    /// <summary>Wraps a finished SHA-256 hash (32 bytes).</summary>
    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32) throw new ArgumentException("a SHA-256 hash is 32 bytes", nameof(hash));
        return new Digest(Sha256Algorithm, Convert.ToHexStringLower(hash));
    }

    public static Digest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"invalid digest \"{text}\": expected sha256:<64 lowercase hex digits>");

    public static bool TryParse(string? text, out Digest digest)
    {
        digest = default;
        if (text is null) return false;
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        var algorithm = text[..colon];
        var hex = text[(colon + 1)..];
        // Only sha256 is produced or accepted: it is what the OCI spec requires registries to support.
        if (algorithm != Sha256Algorithm || hex.Length != 64 || !hex.All(IsLowerHex)) return false;
        digest = new Digest(algorithm, hex);
        return true;
    }

    public bool IsEmpty => Hex is null;

    /// <summary>The first 12 hex digits, as people read image ids.</summary>
    public string Short => Hex[..12];

    public override string ToString() => IsEmpty ? "" : $"{Algorithm}:{Hex}";

    private static bool IsLowerHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f';
}

internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Digest.Parse(reader.GetString() ?? throw new JsonException("digest must be a string"));

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
