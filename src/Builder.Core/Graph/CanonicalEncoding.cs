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
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Encode(Op op) => JsonSerializer.SerializeToUtf8Bytes(op, Options);

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
