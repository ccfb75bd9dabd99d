using Builder.Core.Oci;
using Builder.Core.Registry;

namespace Builder.Core.Export;

/// <summary>
/// <c>--push</c>, <c>-o type=image,push=true</c> and <c>-o type=registry</c>: the image is
/// assembled and tagged in the local store like <see cref="ImageStoreExporter"/>, then pushed to
/// every name. Only blobs the registry lacks are sent.
/// </summary>
public sealed class RegistryExporter(ImageAssembler assembler, IImageStore images, RegistryPusher pusher, LayerConversion conversion, IReadOnlyList<string> names) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var references = names.Select(ImageReference.Parse).ToList();
        if (references.Count == 0) throw new ArgumentException("pushing needs an image name (-t NAME or name=NAME)");

        var result = await new ImageStoreExporter(assembler, images, names).ExportAsync(output, options, ct).ConfigureAwait(false);
        var pushed = await conversion.ToCompressedAsync(result.Manifest!, ct).ConfigureAwait(false);
        foreach (var reference in references)
            await pusher.PushAsync(pushed, reference, progress: null, ct).ConfigureAwait(false);
        return result with { Manifest = pushed };
    }
}
