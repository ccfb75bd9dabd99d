using Builder.Core.Oci;

namespace Builder.Core.Registry;

/// <summary>
/// What a build does with a base image it takes from a registry, as <c>docker pull</c> would:
/// downloads the layers the content store lacks and keeps the image under its name. The next
/// build then finds the name in the local store and asks no registry at all (Docker's rule; the
/// frontend's <c>--pull</c> asks again).
/// <para>
/// A name already in the store is left where it points: it may be an image the user built or
/// pulled as a whole multi-platform index, and a build reading one platform of it must not
/// narrow or move it.
/// </para>
/// </summary>
public sealed class BaseImagePull(RegistryImageResolver registry, IImageStore images, IContentStore content)
{
    public async Task PullAsync(ResolvedImage image, CancellationToken ct)
    {
        // Downloads only what the content store lacks; nothing when every layer is here.
        await registry.EnsureLayersAsync(image, ct).ConfigureAwait(false);

        if (TaggedName(image.Reference) is not { } name || content.SizeOf(image.ManifestDigest) is not { } size) return;
        if (await images.GetAsync(name, ct).ConfigureAwait(false) is not null) return;
        await images.PutAsync(name, new Descriptor(image.Manifest.MediaType, image.ManifestDigest, size), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>registry/repo:tag</c> of a reference the frontend pinned as <c>registry/repo:tag@digest</c>;
    /// null for layouts and digest-only references, which name no tag to keep.
    /// </summary>
    private static string? TaggedName(string reference)
    {
        if (reference.StartsWith(OciLayoutResolver.Scheme, StringComparison.Ordinal)) return null;
        if (!ImageReference.TryParse(reference, out var parsed, out _) || parsed.Tag is null) return null;
        return (parsed with { Digest = null }).ToString();
    }
}
