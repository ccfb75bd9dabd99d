using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Registry;

/// <summary>
/// The JSON the registry code reads and writes, generated at compile time (no reflection: it works
/// in the Native AOT binary). Web defaults, because the registry and token answers were read with
/// <c>ReadFromJsonAsync</c>, whose defaults these are (names matched case-insensitively, numbers
/// also read from strings). The credential helper record, written with explicit names, is written
/// byte for byte as with the plain defaults; reading it case-insensitively is what the helpers'
/// own Go code does.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TokenReply))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(HelperRecord))]
internal sealed partial class RegistryJson : JsonSerializerContext;
