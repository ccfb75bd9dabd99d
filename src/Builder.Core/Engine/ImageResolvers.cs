using Builder.Core.Oci;

namespace Builder.Core.Engine;

/// <summary>
/// Picks where a reference is looked up: <c>oci-layout://</c> references in their layout, anything
/// else in the local store (and, once it exists, a registry).
/// </summary>
public sealed class ImageResolvers(IImageResolver store, IImageResolver layouts) : IImageResolver
{
    public Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct) =>
        reference.StartsWith(OciLayoutResolver.Scheme, StringComparison.Ordinal)
            ? layouts.ResolveAsync(reference, platform, ct)
            : store.ResolveAsync(reference, platform, ct);
}
