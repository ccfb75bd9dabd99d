using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>
/// Turns an image reference into a manifest and config whose blobs are in the content store:
/// from the local image store, an OCI layout, and (later) a registry. The frontend uses it to
/// read a base image's config; the image source op uses it to find the layers to unpack.
/// </summary>
public interface IImageResolver
{
    /// <summary>Throws <see cref="ImageNotFoundException"/> when no source has the image.</summary>
    Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct);
}

/// <param name="ManifestDigest">the digest a build's cache key uses: tags move, digests don't.</param>
public sealed record ResolvedImage(string Reference, Digest ManifestDigest, ImageManifest Manifest, ImageConfig Config);

public sealed class ImageNotFoundException(string reference, string detail)
    : Exception($"{reference}: {detail}")
{
    public string Reference { get; } = reference;
}
