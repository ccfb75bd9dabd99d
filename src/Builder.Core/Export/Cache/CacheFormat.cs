using System.Text.Json;
using System.Text.Json.Serialization;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Export.Cache;

/// <summary>
/// The cache artifact (docs/cache-format.md): an OCI image manifest whose <c>artifactType</c> and
/// config media type are <see cref="ConfigMediaType"/>, whose config lists the records and whose
/// layers are every blob the records name (so registries keep them and copies carry them).
/// </summary>
public static class CacheFormat
{
    public const string ConfigMediaType = "application/vnd.builder.cache.config.v1+json";

    /// <summary>The OCI layout tag a local cache is written under when <c>tag=</c> is not given.</summary>
    public const string DefaultTag = "latest";

    public static bool IsCacheManifest(ImageManifest manifest) =>
        manifest.ArtifactType == ConfigMediaType || manifest.Config.MediaType == ConfigMediaType;
}

/// <summary>The config blob of a cache artifact.</summary>
public sealed record CacheConfig
{
    private const int CurrentVersion = 1;

    [JsonPropertyName("version")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("records")] public IReadOnlyList<CacheRecord> Records { get; init; } = [];

    public CacheConfig() { }

    // For the JSON source generator. It sets init-only properties in one object initializer, so a
    // field the document lacks would become null or 0 instead of the default above
    // (dotnet/runtime#84484); constructor parameters keep the defaults, as reflection did.
    [JsonConstructor]
    internal CacheConfig(IReadOnlyList<CacheRecord>? records, int version = CurrentVersion)
    {
        Version = version;
        if (records is not null) Records = records;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CacheJson.Relaxed.CacheConfig);

    public static CacheConfig FromJson(ReadOnlySpan<byte> json)
    {
        var config = JsonSerializer.Deserialize(json, CacheJson.Relaxed.CacheConfig) ?? throw new JsonException("cache config is null");
        if (config.Version != 1) throw new JsonException($"unsupported cache format version {config.Version}");
        foreach (var record in config.Records)
            if (record.Layers is null || record.Layers.Count == 0 || record.Layers.Any(l => l.Blob is null))
                throw new JsonException($"cache record {record.Key} has no layers");
        return config;
    }
}

/// <summary>
/// One result: its solver cache key, the keys of the inputs it was derived from, and the layer chain
/// (base first) whose unpacking gives its filesystem.
/// </summary>
public sealed record CacheRecord(
    [property: JsonPropertyName("key")] Digest Key,
    [property: JsonPropertyName("inputs")] IReadOnlyList<Digest> Inputs,
    [property: JsonPropertyName("layers")] IReadOnlyList<CacheLayer> Layers)
{
    /// <summary>The step that made it, for people reading the cache (not used for matching).</summary>
    [JsonPropertyName("description")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Description { get; init; }
}

/// <summary>A layer of a record: its blob (as a descriptor) and the digest of its uncompressed tar.</summary>
public sealed record CacheLayer(
    [property: JsonPropertyName("blob")] Descriptor Blob,
    [property: JsonPropertyName("diffID")] Digest DiffId);

/// <summary>
/// The cache config's JSON, generated at compile time (no reflection: it works in the Native AOT
/// binary). Same options as the image-spec documents (<see cref="OciJson"/>), whose descriptors it holds.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CacheConfig))]
internal sealed partial class CacheJson : JsonSerializerContext
{
    public static CacheJson Relaxed { get; }

    // Set in the static constructor, not by an initializer: the generated Default is initialized in
    // another part of this partial class, and initializers of different parts run in no set order.
    static CacheJson() => Relaxed = new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
