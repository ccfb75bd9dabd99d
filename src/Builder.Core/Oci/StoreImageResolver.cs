using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>
/// Resolves images already in this state root: a name in the image store, or a manifest digest
/// in the content store. A target that is an index is narrowed to the requested platform.
/// </summary>
public sealed class StoreImageResolver(IImageStore images, IContentStore content) : IImageResolver
{
    public async Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
    {
        var target = await FindTargetAsync(reference, ct).ConfigureAwait(false)
            ?? throw new ImageNotFoundException(reference, "no such image in the local store");
        return await ManifestReader.ReadAsync(content, reference, target, platform, ct).ConfigureAwait(false);
    }

    private async Task<Descriptor?> FindTargetAsync(string reference, CancellationToken ct)
    {
        if (await images.GetAsync(reference, ct).ConfigureAwait(false) is { } record) return record.Target;

        // name@sha256:… resolves by content alone: the digest is the identity, the name only a hint.
        var at = reference.LastIndexOf('@');
        if (at > 0 && Digest.TryParse(reference[(at + 1)..], out var digest) && content.SizeOf(digest) is { } size)
        {
            var json = await content.ReadAllBytesAsync(digest, ct).ConfigureAwait(false);
            return new Descriptor(ManifestReader.MediaTypeOf(json), digest, size);
        }
        return null;
    }
}

/// <summary>Reads a manifest or index from the content store down to one platform's manifest and config.</summary>
public static class ManifestReader
{
    public static async Task<ResolvedImage> ReadAsync(IContentStore content, string reference, Descriptor target, Platform platform, CancellationToken ct)
    {
        var json = await content.ReadAllBytesAsync(target.Digest, ct).ConfigureAwait(false);
        var mediaType = target.MediaType is { Length: > 0 } ? target.MediaType : MediaTypeOf(json);
        if (MediaTypes.IsIndex(mediaType))
        {
            var index = ImageIndex.FromJson(json);
            var chosen = ChoosePlatform(index, platform)
                ?? throw new ImageNotFoundException(reference, $"no manifest for platform {platform} (has: {string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString() ?? "unknown"))})");
            return await ReadAsync(content, reference, chosen, platform, ct).ConfigureAwait(false);
        }

        var manifest = ImageManifest.FromJson(json);
        var config = ImageConfig.FromJson(await content.ReadAllBytesAsync(manifest.Config.Digest, ct).ConfigureAwait(false));
        return new ResolvedImage(reference, target.Digest, manifest, config);
    }

    /// <summary>Exact os/arch match, preferring the same variant; a lone manifest without platform is taken as is.</summary>
    public static Descriptor? ChoosePlatform(ImageIndex index, Platform platform)
    {
        var candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) || m.MediaType.Length == 0).ToList();
        return candidates.FirstOrDefault(m => m.Platform is { } p && p.Os == platform.Os && p.Architecture == platform.Architecture && p.Variant == platform.Variant)
            ?? candidates.FirstOrDefault(m => m.Platform is { } p && p.Os == platform.Os && p.Architecture == platform.Architecture)
            ?? (candidates.Count == 1 && candidates[0].Platform is null ? candidates[0] : null);
    }

    /// <summary>Blobs often come without a descriptor media type (a digest reference): read it from the JSON itself.</summary>
    public static string MediaTypeOf(ReadOnlySpan<byte> json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(json);
        using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.TryGetProperty("mediaType", out var mt) && mt.GetString() is { Length: > 0 } declared) return declared;
        return root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
    }
}
