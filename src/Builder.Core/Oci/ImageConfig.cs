using System.Text.Json;
using System.Text.Json.Serialization;
using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>
/// An image configuration as Docker and BuildKit write it (OCI image config plus Docker's
/// fields such as Healthcheck, OnBuild and Shell). Immutable: conversion derives each step's
/// config with <c>with</c>. Property order is the JSON order, so the same config always
/// serialises to the same bytes.
/// </summary>
public sealed record ImageConfig
{
    [JsonPropertyName("architecture")] public string Architecture { get; init; } = Platform.Host.Architecture;
    [JsonPropertyName("os")] public string Os { get; init; } = "linux";

    [JsonPropertyName("variant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    [JsonPropertyName("author"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Author { get; init; }

    [JsonPropertyName("created"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Created { get; init; }

    [JsonPropertyName("config")] public ContainerConfig Config { get; init; } = new();
    [JsonPropertyName("rootfs")] public RootFs RootFs { get; init; } = new();
    [JsonPropertyName("history")] public IReadOnlyList<HistoryEntry> History { get; init; } = [];

    /// <summary><c>--cache-to type=inline</c>: the cache config (docs/cache-format.md) carried in the image itself.</summary>
    [JsonPropertyName(InlineCacheField), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? InlineCache { get; init; }

    public const string InlineCacheField = "io.builder.cache.v1";

    public ImageConfig() { }

    // For the JSON source generator. It sets init-only properties in one object initializer, so a
    // field the document lacks would become null or 0 instead of the default above
    // (dotnet/runtime#84484); constructor parameters keep the defaults, as reflection did.
    [JsonConstructor]
    internal ImageConfig(string? architecture, string? os, ContainerConfig? config, RootFs? rootFs, IReadOnlyList<HistoryEntry>? history)
    {
        if (architecture is not null) Architecture = architecture;
        if (os is not null) Os = os;
        if (config is not null) Config = config;
        if (rootFs is not null) RootFs = rootFs;
        if (history is not null) History = history;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, OciJson.Relaxed.ImageConfig);

    public static ImageConfig FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, OciJson.Relaxed.ImageConfig) ?? throw new JsonException("image config is null");

    public Platform Platform => new(Architecture, Os) { Variant = Variant };
}

/// <summary>The runtime defaults of the image (Docker's "config" object).</summary>
public sealed record ContainerConfig
{
    [JsonPropertyName("User")] public string? User { get; init; }
    [JsonPropertyName("ExposedPorts")] public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }
    [JsonPropertyName("Env")] public IReadOnlyList<string>? Env { get; init; }
    [JsonPropertyName("Entrypoint")] public IReadOnlyList<string>? Entrypoint { get; init; }
    [JsonPropertyName("Cmd")] public IReadOnlyList<string>? Cmd { get; init; }
    [JsonPropertyName("Volumes")] public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; init; }
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("StopSignal")] public string? StopSignal { get; init; }
    [JsonPropertyName("Healthcheck")] public HealthConfig? Healthcheck { get; init; }
    [JsonPropertyName("OnBuild")] public IReadOnlyList<string>? OnBuild { get; init; }
    [JsonPropertyName("Shell")] public IReadOnlyList<string>? Shell { get; init; }
    [JsonPropertyName("ArgsEscaped")] public bool? ArgsEscaped { get; init; }
}

/// <summary>Docker writes sets (ports, volumes) as objects with empty-object values.</summary>
public sealed record EmptyObject;

/// <summary>Durations are nanoseconds, as Go's time.Duration marshals them.</summary>
public sealed record HealthConfig
{
    [JsonPropertyName("Test")] public IReadOnlyList<string>? Test { get; init; }
    [JsonPropertyName("Interval")] public long? Interval { get; init; }
    [JsonPropertyName("Timeout")] public long? Timeout { get; init; }
    [JsonPropertyName("StartPeriod")] public long? StartPeriod { get; init; }
    [JsonPropertyName("StartInterval")] public long? StartInterval { get; init; }
    [JsonPropertyName("Retries")] public int? Retries { get; init; }
}

public sealed record RootFs
{
    [JsonPropertyName("type")] public string Type { get; init; } = "layers";
    [JsonPropertyName("diff_ids")] public IReadOnlyList<Digest> DiffIds { get; init; } = [];

    public RootFs() { }

    // For the JSON source generator. It sets init-only properties in one object initializer, so a
    // field the document lacks would become null or 0 instead of the default above
    // (dotnet/runtime#84484); constructor parameters keep the defaults, as reflection did.
    [JsonConstructor]
    internal RootFs(string? type, IReadOnlyList<Digest>? diffIds)
    {
        if (type is not null) Type = type;
        if (diffIds is not null) DiffIds = diffIds;
    }
}

public sealed record HistoryEntry
{
    [JsonPropertyName("created")] public DateTimeOffset? Created { get; init; }
    [JsonPropertyName("created_by")] public string? CreatedBy { get; init; }
    [JsonPropertyName("author")] public string? Author { get; init; }
    [JsonPropertyName("comment")] public string? Comment { get; init; }
    [JsonPropertyName("empty_layer")] public bool? EmptyLayer { get; init; }
}

/// <summary>An OCI image manifest (also read for Docker schema 2, whose shape is the same).</summary>
public sealed record ImageManifest
{
    private const int DefaultSchemaVersion = 2;

    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = DefaultSchemaVersion;
    [JsonPropertyName("mediaType")] public string MediaType { get; init; } = MediaTypes.OciManifest;

    /// <summary>What an artifact manifest holds (OCI 1.1); null for images.</summary>
    [JsonPropertyName("artifactType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("config")] public required Descriptor Config { get; init; }
    [JsonPropertyName("layers")] public IReadOnlyList<Descriptor> Layers { get; init; } = [];
    [JsonPropertyName("annotations")] public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    public ImageManifest() { }

    // For the JSON source generator. It sets init-only properties in one object initializer, so a
    // field the document lacks would become null or 0 instead of the default above
    // (dotnet/runtime#84484); constructor parameters keep the defaults, as reflection did.
    [JsonConstructor]
    internal ImageManifest(string? mediaType, IReadOnlyList<Descriptor>? layers, int schemaVersion = DefaultSchemaVersion)
    {
        SchemaVersion = schemaVersion;
        if (mediaType is not null) MediaType = mediaType;
        if (layers is not null) Layers = layers;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, OciJson.Relaxed.ImageManifest);
    public static ImageManifest FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, OciJson.Relaxed.ImageManifest) ?? throw new JsonException("manifest is null");
}

/// <summary>An OCI image index (also read for Docker manifest lists).</summary>
public sealed record ImageIndex
{
    private const int DefaultSchemaVersion = 2;

    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = DefaultSchemaVersion;
    [JsonPropertyName("mediaType")] public string MediaType { get; init; } = MediaTypes.OciIndex;
    [JsonPropertyName("manifests")] public IReadOnlyList<Descriptor> Manifests { get; init; } = [];
    [JsonPropertyName("annotations")] public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    public ImageIndex() { }

    // For the JSON source generator. It sets init-only properties in one object initializer, so a
    // field the document lacks would become null or 0 instead of the default above
    // (dotnet/runtime#84484); constructor parameters keep the defaults, as reflection did.
    [JsonConstructor]
    internal ImageIndex(string? mediaType, IReadOnlyList<Descriptor>? manifests, int schemaVersion = DefaultSchemaVersion)
    {
        SchemaVersion = schemaVersion;
        if (mediaType is not null) MediaType = mediaType;
        if (manifests is not null) Manifests = manifests;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, OciJson.Relaxed.ImageIndex);
    public static ImageIndex FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, OciJson.Relaxed.ImageIndex) ?? throw new JsonException("index is null");
}
