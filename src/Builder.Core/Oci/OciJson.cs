using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Oci;

/// <summary>
/// The JSON of the image-spec documents, generated at compile time (no reflection, so it works in
/// the Native AOT binary and costs no JIT). Null optionals are left out, as Docker writes them.
/// </summary>
/// <remarks>
/// Use <see cref="Relaxed"/>, not <c>Default</c>: the encoder cannot be named in the attribute, and
/// configs, manifests and indexes are written with the relaxed one (<c>+</c>, <c>&lt;</c>, <c>'</c>
/// and non-ASCII as they are, as Go writes them). Their bytes are hashed into digests, so these
/// options must stay exactly what they were when the documents were first written.
/// </remarks>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(Descriptor))]
// The JSON lists the frontend writes into history entries (CMD ["sh"]), in the same encoding.
[JsonSerializable(typeof(IEnumerable<string>))]
public sealed partial class OciJson : JsonSerializerContext
{
    /// <summary>The attribute's options plus the relaxed encoder.</summary>
    public static OciJson Relaxed { get; }

    // Set in the static constructor, not by an initializer: the generated Default is initialized in
    // another part of this partial class, and initializers of different parts run in no set order.
    static OciJson() => Relaxed = new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
