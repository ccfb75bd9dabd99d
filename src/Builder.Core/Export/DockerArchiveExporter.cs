using System.Text.Json;
using System.Text.Json.Serialization;
using Builder.Core.Oci;

namespace Builder.Core.Export;

/// <summary>
/// <c>--output type=docker,dest=x.tar</c>: a tar that <c>docker load</c> reads (Docker 20.10 on):
/// manifest.json naming the config, the tags and the layers, a legacy <c>repositories</c> file, and
/// the blobs under blobs/sha256/ as Docker 25 saves them. Older Docker finds files by the paths in
/// manifest.json, so the layout suits both; it decompresses gzip layers itself but not zstd, so
/// zstd is exported as gzip here.
/// </summary>
public sealed class DockerArchiveExporter(ImageAssembler assembler, IContentStore content, string destination, IReadOnlyList<string> names) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var references = names.Select(ImageReference.Parse).ToList();
        if (references.FirstOrDefault(r => r.Tag is null) is { } untagged)
            throw new FormatException($"docker archive needs tagged names, not a digest: \"{untagged}\"");

        if (options.Compression == LayerCompression.Zstd) options = options with { Compression = LayerCompression.Gzip };
        var image = await assembler.AssembleAsync(output, options, ct).ConfigureAwait(false);

        await AtomicFile.WriteAsync(destination, async (file, token) =>
        {
            await using var archive = new ArchiveWriter(file, options.SourceDateEpoch ?? DateTimeOffset.UnixEpoch);
            await archive.AddDirectoryAsync("blobs", token).ConfigureAwait(false);
            await archive.AddDirectoryAsync("blobs/sha256", token).ConfigureAwait(false);
            foreach (var blob in image.Blobs.Skip(1).DistinctBy(b => b.Digest).OrderBy(b => b.Digest.Hex, StringComparer.Ordinal))
            {
                await using var stream = content.OpenRead(blob.Digest);
                await archive.AddFileAsync(BlobPath(blob), stream, token).ConfigureAwait(false);
            }
            await archive.AddFileAsync("manifest.json", ManifestJson(image, references), token).ConfigureAwait(false);
            await archive.AddFileAsync("repositories", RepositoriesJson(image, references), token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);

        return new ExportResult(image.Manifest, image.Config.Digest);
    }

    private static string BlobPath(Descriptor blob) => $"blobs/sha256/{blob.Digest.Hex}";

    private static byte[] ManifestJson(AssembledImage image, IReadOnlyList<ImageReference> references) =>
        JsonSerializer.SerializeToUtf8Bytes(
        [
            new ArchiveManifestEntry(
                BlobPath(image.Config),
                references.Select(r => $"{r.FamiliarName}:{r.Tag}").ToList(),
                image.ManifestContent.Layers.Select(BlobPath).ToList()),
        ], DockerArchiveJson.Default.IReadOnlyListArchiveManifestEntry);

    /// <summary>The pre-1.10 index of tags: repository → tag → id of the top layer.</summary>
    private static byte[] RepositoriesJson(AssembledImage image, IReadOnlyList<ImageReference> references)
    {
        var top = image.ManifestContent.Layers.LastOrDefault()?.Digest.Hex ?? image.Config.Digest.Hex;
        var repositories = references
            .GroupBy(r => r.FamiliarName)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.Tag, StringComparer.Ordinal).ToDictionary(r => r.Tag!, _ => top));
        return JsonSerializer.SerializeToUtf8Bytes(repositories, DockerArchiveJson.Default.DictionaryStringDictionaryStringString);
    }
}

/// <summary>One image in docker's manifest.json.</summary>
internal sealed record ArchiveManifestEntry(
    [property: JsonPropertyName("Config")] string Config,
    [property: JsonPropertyName("RepoTags")] IReadOnlyList<string> RepoTags,
    [property: JsonPropertyName("Layers")] IReadOnlyList<string> Layers);

/// <summary>manifest.json and repositories, generated at compile time (no reflection: it works in the AOT binary); default options.</summary>
[JsonSerializable(typeof(IReadOnlyList<ArchiveManifestEntry>))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
internal sealed partial class DockerArchiveJson : JsonSerializerContext;
