using Builder.Core.Oci;

namespace Builder.Core.Export;

/// <summary>
/// <c>-t name</c>: assembles the image into the content store, then points every name at it.
/// Names are checked before any work and tagged only once every blob is written, so a failed
/// build tags nothing.
/// </summary>
/// <param name="compression">uncompressed unless asked (<c>-o type=image,compression=gzip</c>): the store
/// keeps layers as Docker's does, and pushing compresses them (<see cref="LayerConversion"/>).</param>
public sealed class ImageStoreExporter(ImageAssembler assembler, IImageStore images, IReadOnlyList<string> names,
    LayerCompression compression = LayerCompression.Uncompressed) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var references = names.Select(ImageReference.Parse).ToList();
        var image = await assembler.AssembleAsync(output, options with { Compression = compression }, ct).ConfigureAwait(false);
        foreach (var reference in references)
            await images.PutAsync(reference.ToString(), image.Manifest, ct).ConfigureAwait(false);
        return new ExportResult(image.Manifest, image.Config.Digest);
    }
}
