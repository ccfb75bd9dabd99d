using System.Text.Json;
using Builder.Core.Export;
using Builder.Core.Oci;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>--metadata-file</c>: what docker buildx writes there for an image build —
/// <c>containerimage.digest</c> (the manifest), <c>containerimage.config.digest</c>,
/// <c>containerimage.descriptor</c> and <c>image.name</c> (the tags, comma-separated).
/// </summary>
internal static class BuildMetadata
{
    public static async Task WriteAsync(string path, ExportResult? result, IReadOnlyList<string> tags, CancellationToken ct)
    {
        var metadata = new SortedDictionary<string, object>(StringComparer.Ordinal);
        if (result?.ConfigDigest is { } config) metadata["containerimage.config.digest"] = config.ToString();
        if (result?.Manifest is { } manifest)
        {
            metadata["containerimage.digest"] = manifest.Digest.ToString();
            metadata["containerimage.descriptor"] = new Dictionary<string, object>
            {
                ["mediaType"] = manifest.MediaType,
                ["digest"] = manifest.Digest.ToString(),
                ["size"] = manifest.Size,
            };
        }
        if (tags.Count > 0) metadata["image.name"] = string.Join(',', tags.Select(t => ImageReference.Parse(t).ToString()));
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(metadata, new JsonSerializerOptions { WriteIndented = true }), ct);
    }
}
