namespace Builder.Core.Oci;

/// <summary>
/// Resolves <c>oci-layout:///path[:tag][@digest]</c> references (<c>--build-context x=oci-layout://…</c>):
/// the layout's blobs are imported, verified, into the content store, so the rest of the build
/// treats the image like any other.
/// </summary>
public sealed class OciLayoutResolver(IContentStore content) : IImageResolver
{
    public const string Scheme = OciLayoutLocation.Scheme;

    private readonly OciLayoutReader _reader = new(content);

    public async Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
    {
        ImportedImage image;
        try
        {
            image = await _reader.ImportAsync(reference, platform, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new ImageNotFoundException(reference, e.Message);
        }
        return new ResolvedImage(reference, image.Manifest.Digest, image.ManifestContent, image.Config);
    }
}
