using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Registry;

/// <summary>
/// Resolves image references against their registries, keeping what it fetches in the content
/// store. A tag costs one HEAD per resolve (tags move; blobs already here are not fetched again);
/// a digest whose manifest and config are already stored costs no request at all.
/// <para>
/// Resolving fetches only metadata (manifests and config): a build whose cache already has the
/// image's layers unpacked never downloads them. The image source op calls
/// <see cref="EnsureLayersAsync"/> before unpacking. The cost is a second step for callers that
/// want the whole image (<c>builder pull</c>).
/// </para>
/// </summary>
public sealed class RegistryImageResolver(RegistryClientFactory registries, IContentStore content, BlobLocations? locations = null) : IImageResolver
{
    /// <summary>As <c>--pull</c>: ask the registry even for a digest whose content is already here.</summary>
    public bool AlwaysPull { get; init; }

    public async Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
    {
        var name = Parse(reference);
        if (!AlwaysPull && name.Digest is { } pinned && await TryReadStoredAsync(reference, pinned, platform, ct).ConfigureAwait(false) is { } stored)
            return stored;

        var client = registries.For(name.Registry);
        var target = await FetchTargetAsync(client, name, reference, ct).ConfigureAwait(false);
        var manifest = target;
        if (MediaTypes.IsIndex(target.MediaType))
        {
            var index = ImageIndex.FromJson(await content.ReadAllBytesAsync(target.Digest, ct).ConfigureAwait(false));
            manifest = ManifestReader.ChoosePlatform(index, platform)
                ?? throw new ImageNotFoundException(reference, $"no manifest for platform {platform} (has: {string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString() ?? "unknown"))})");
            manifest = await EnsureManifestAsync(client, name.Repository, manifest.Digest.ToString(), manifest.Digest, ct).ConfigureAwait(false);
        }

        var config = ImageManifest.FromJson(await content.ReadAllBytesAsync(manifest.Digest, ct).ConfigureAwait(false)).Config;
        await EnsureBlobAsync(client, name.Repository, config, ct).ConfigureAwait(false);
        return await ManifestReader.ReadAsync(content, reference, manifest, platform, ct).ConfigureAwait(false);
    }

    /// <summary>The descriptor of the manifest or index a reference names (before platform selection), stored in the content store.</summary>
    public async Task<Descriptor> ResolveTargetAsync(string reference, CancellationToken ct)
    {
        var name = Parse(reference);
        return await FetchTargetAsync(registries.For(name.Registry), name, reference, ct).ConfigureAwait(false);
    }

    /// <summary>Downloads the image's layers that are not in the content store yet, several at once.</summary>
    public async Task EnsureLayersAsync(ResolvedImage image, CancellationToken ct)
    {
        var missing = image.Manifest.Layers.DistinctBy(l => l.Digest).Where(l => !content.Exists(l.Digest)).ToList();
        if (missing.Count == 0) return;

        var name = Parse(image.Reference);
        var client = registries.For(name.Registry);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = registries.Options.MaxConcurrentTransfers, CancellationToken = ct };
        await Parallel.ForEachAsync(missing, parallel, async (layer, token) =>
            await EnsureBlobAsync(client, name.Repository, layer, token).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Reads a pinned image from the content store alone; null when any part of it (manifest, platform manifest, config) must still be fetched.</summary>
    private async Task<ResolvedImage?> TryReadStoredAsync(string reference, Digest digest, Platform platform, CancellationToken ct)
    {
        if (content.SizeOf(digest) is not { } size) return null;
        var json = await content.ReadAllBytesAsync(digest, ct).ConfigureAwait(false);
        try
        {
            return await ManifestReader.ReadAsync(content, reference, new Descriptor(ManifestReader.MediaTypeOf(json), digest, size), platform, ct).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private async Task<Descriptor> FetchTargetAsync(RegistryClient client, ImageReference name, string reference, CancellationToken ct)
    {
        var tagOrDigest = name.Digest?.ToString() ?? name.Tag ?? ImageReference.DefaultTag;
        try
        {
            // A HEAD tells the digest without the body (and is not counted by Docker Hub's pull limit).
            if (await client.HeadManifestAsync(name.Repository, tagOrDigest, ct).ConfigureAwait(false) is { } head)
                return await EnsureManifestAsync(client, name.Repository, head.Digest.ToString(), head.Digest, ct).ConfigureAwait(false);
            return await StoreManifestAsync(await client.GetManifestAsync(name.Repository, tagOrDigest, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Status == System.Net.HttpStatusCode.NotFound && e is not DigestMismatchException)
        {
            // The reference already names registry, repository and tag; say only what the registry answered.
            throw new ImageNotFoundException(reference, "the registry has no such manifest (404 Not Found)");
        }
    }

    private async Task<Descriptor> EnsureManifestAsync(RegistryClient client, string repository, string reference, Digest digest, CancellationToken ct)
    {
        if (content.SizeOf(digest) is { } size)
        {
            var json = await content.ReadAllBytesAsync(digest, ct).ConfigureAwait(false);
            return new Descriptor(ManifestReader.MediaTypeOf(json), digest, size);
        }
        return await StoreManifestAsync(await client.GetManifestAsync(repository, reference, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
    }

    private async Task<Descriptor> StoreManifestAsync(RegistryManifest manifest, CancellationToken ct)
    {
        using var bytes = new MemoryStream(manifest.Content, writable: false);
        await content.PutAsync(bytes, manifest.Descriptor.MediaType, manifest.Descriptor.Digest, ct).ConfigureAwait(false);
        return manifest.Descriptor;
    }

    private async Task EnsureBlobAsync(RegistryClient client, string repository, Descriptor blob, CancellationToken ct)
    {
        if (content.Exists(blob.Digest)) return;
        await client.FetchBlobAsync(repository, blob, content, ct).ConfigureAwait(false);
        if (locations is not null)
            await locations.RecordAsync(client.Endpoint.Name, repository, blob.Digest, ct).ConfigureAwait(false);
    }

    private static ImageReference Parse(string reference) =>
        ImageReference.TryParse(reference, out var name, out var error) ? name : throw new ImageNotFoundException(reference, error);
}
