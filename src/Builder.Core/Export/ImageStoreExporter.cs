using Builder.Core.Oci;

namespace Builder.Core.Export;

/// <summary>
/// <c>-t name</c>: assembles the image into the content store, then points every name at it.
/// Names are checked before any work and tagged only once every blob is written, so a failed
/// build tags nothing.
/// </summary>
public sealed class ImageStoreExporter(ImageAssembler assembler, IImageStore images, IReadOnlyList<string> names) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var references = names.Select(ImageReference.Parse).ToList();
        var image = await assembler.AssembleAsync(output, options, ct).ConfigureAwait(false);
        foreach (var reference in references)
            await images.PutAsync(reference.ToString(), image.Manifest, ct).ConfigureAwait(false);
        return new ExportResult(image.Manifest, image.Config.Digest);
    }
}
