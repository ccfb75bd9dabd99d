using System.Text;
using Builder.Core.Oci;

namespace Builder.Core.Export;

/// <summary>
/// <c>--output type=oci,dest=x.tar</c>: the image as an OCI image layout in a tar — oci-layout,
/// index.json and blobs/sha256/… — streamed from the content store in sorted order. With a name,
/// the index entry carries it: the tag as <c>org.opencontainers.image.ref.name</c> (what skopeo and
/// umoci look up) and the full name as <c>io.containerd.image.name</c>, as BuildKit writes them.
/// </summary>
public sealed class OciArchiveExporter(ImageAssembler assembler, IContentStore content, string destination, string? name = null) : IExporter
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    public const string ContainerdNameAnnotation = "io.containerd.image.name";
    private static readonly byte[] LayoutFile = Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}""");

    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var reference = name is null ? null : ImageReference.Parse(name);
        var image = await assembler.AssembleAsync(output, options, ct).ConfigureAwait(false);
        var index = new ImageIndex { Manifests = [image.Manifest with { Annotations = NameAnnotations(reference) }] };

        await AtomicFile.WriteAsync(destination, async (file, token) =>
        {
            await using var archive = new ArchiveWriter(file, options.SourceDateEpoch ?? DateTimeOffset.UnixEpoch);
            await archive.AddDirectoryAsync("blobs", token).ConfigureAwait(false);
            await archive.AddDirectoryAsync("blobs/sha256", token).ConfigureAwait(false);
            foreach (var blob in image.Blobs.DistinctBy(b => b.Digest).OrderBy(b => b.Digest.Hex, StringComparer.Ordinal))
            {
                await using var stream = content.OpenRead(blob.Digest);
                await archive.AddFileAsync($"blobs/sha256/{blob.Digest.Hex}", stream, token).ConfigureAwait(false);
            }
            await archive.AddFileAsync("index.json", index.ToJson(), token).ConfigureAwait(false);
            await archive.AddFileAsync("oci-layout", LayoutFile, token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);

        return new ExportResult(image.Manifest, image.Config.Digest);
    }

    private static Dictionary<string, string>? NameAnnotations(ImageReference? reference) =>
        reference?.Tag is not { } tag ? null : new()
        {
            [ContainerdNameAnnotation] = reference.ToString(),
            [RefNameAnnotation] = tag,
        };
}
