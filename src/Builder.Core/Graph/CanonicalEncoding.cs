using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Graph;

/// <summary>
/// The one byte encoding of an op that its digest is computed from. System.Text.Json writes
/// properties in declaration order and the discriminator first, which is stable across machines
/// and runs; null and default-valued optionals are written too so that adding an optional field
/// later changes digests only once, deliberately.
/// </summary>
public static class CanonicalEncoding
{
    public static byte[] Encode(Op op) => JsonSerializer.SerializeToUtf8Bytes(op, GraphJson.Canonical.Op);

    /// <summary>The digest of a vertex: its op's encoding followed by its inputs' digests, in order.</summary>
    public static Digest VertexDigest(Op op, IEnumerable<Digest> inputDigests)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("op");
            writer.WriteRawValue(Encode(op), skipInputValidation: true);
            writer.WriteStartArray("inputs");
            foreach (var input in inputDigests) writer.WriteStringValue(input.ToString());
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Digest.Sha256(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }
}

/// <summary>
/// The op encoding, generated at compile time (no reflection: it works in the Native AOT binary).
/// Every digest and cache key ever recorded was computed from these bytes, so the options are
/// exactly those of the reflection-based encoding they replace (tests compare the two).
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = false,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Op))]
internal sealed partial class GraphJson : JsonSerializerContext
{
    /// <summary>The attribute's options plus the relaxed encoder, which the attribute cannot name.</summary>
    public static GraphJson Canonical { get; }

    // Set in the static constructor, not by an initializer: the generated Default is initialized in
    // another part of this partial class, and initializers of different parts run in no set order.
    static GraphJson() => Canonical = new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
