using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Builder.Build;
using Builder.Core.Oci;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>--metadata-file</c>: what docker buildx writes there for an image build —
/// <c>containerimage.digest</c> (the manifest), <c>containerimage.config.digest</c>,
/// <c>containerimage.descriptor</c> and <c>image.name</c> (the tags, comma-separated).
/// </summary>
internal static class BuildMetadata
{
    public static async Task WriteAsync(string path, BuildResult result, IReadOnlyList<string> tags, CancellationToken ct)
    {
        var metadata = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in result.ExporterResponse)
            metadata[key] = key == "containerimage.descriptor" ? JsonNode.Parse(value) : JsonValue.Create(value);
        if (tags.Count > 0) metadata["image.name"] = string.Join(',', tags.Select(t => ImageReference.Parse(t).ToString()));
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(metadata, BuildMetadataJson.Default.SortedDictionaryStringJsonNode), ct);
    }
}

/// <summary>The metadata file's JSON, generated at compile time (no reflection: it works in the AOT binary).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(SortedDictionary<string, JsonNode?>))]
internal sealed partial class BuildMetadataJson : JsonSerializerContext;
