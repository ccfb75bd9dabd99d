using Builder.Core.Oci;

namespace Builder.Core.Engine;

/// <summary>
/// Picks where a reference is looked up: <c>oci-layout://</c> references in their layout; anything
/// else in the local store first (Docker's rule: a local image is used as is, not re-pulled) and
/// then in its registry. With <paramref name="alwaysPull"/> (<c>--pull</c>) the registry is asked first.
/// </summary>
public sealed class ImageResolvers(IImageResolver store, IImageResolver layouts, IImageResolver registry, bool alwaysPull = false) : IImageResolver
{
    public async Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
    {
        if (reference.StartsWith(OciLayoutResolver.Scheme, StringComparison.Ordinal))
            return await layouts.ResolveAsync(reference, platform, ct).ConfigureAwait(false);
        if (alwaysPull)
            return await registry.ResolveAsync(reference, platform, ct).ConfigureAwait(false);
        try
        {
            return await store.ResolveAsync(reference, platform, ct).ConfigureAwait(false);
        }
        catch (ImageNotFoundException)
        {
            return await registry.ResolveAsync(reference, platform, ct).ConfigureAwait(false);
        }
    }
}
