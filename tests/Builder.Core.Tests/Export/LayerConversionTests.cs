using System.IO.Compression;
using Builder.Core.Export;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

public sealed class LayerConversionTests : IDisposable
{
    private readonly ExportFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Uncompressed_layers_become_gzip_with_the_same_content_once()
    {
        var top = _fixture.AddSampleChain();
        var stored = await new ImageStoreExporter(_fixture.Assembler, _fixture.Images, ["conv:1"])
            .ExportAsync(new BuildOutput(top, new ImageConfig()), new ExportOptions(), CancellationToken.None);
        var storedManifest = ImageManifest.FromJson(await _fixture.Content.ReadAllBytesAsync(stored.Manifest!.Digest, CancellationToken.None));
        Assert.All(storedManifest.Layers, l => Assert.Equal(MediaTypes.OciLayer, l.MediaType));

        var conversion = new LayerConversion(_fixture.State.Root, _fixture.Content, _fixture.Layers);
        var pushed = await conversion.ToCompressedAsync(stored.Manifest, CancellationToken.None);
        var pushedManifest = ImageManifest.FromJson(await _fixture.Content.ReadAllBytesAsync(pushed.Digest, CancellationToken.None));

        Assert.NotEqual(stored.Manifest.Digest, pushed.Digest);
        Assert.Equal(storedManifest.Config, pushedManifest.Config);
        for (var i = 0; i < storedManifest.Layers.Count; i++)
        {
            Assert.Equal(MediaTypes.OciLayerGzip, pushedManifest.Layers[i].MediaType);
            await using var gzip = new GZipStream(_fixture.Content.OpenRead(pushedManifest.Layers[i].Digest), CompressionMode.Decompress);
            Assert.Equal(storedManifest.Layers[i].Digest, await Digest.Sha256Async(gzip, CancellationToken.None));
        }

        // Converting again finds the recorded pairs: the same manifest, no new blobs.
        var blobsBefore = _fixture.Content.List().Count();
        Assert.Equal(pushed.Digest, (await conversion.ToCompressedAsync(stored.Manifest, CancellationToken.None)).Digest);
        Assert.Equal(blobsBefore, _fixture.Content.List().Count());
    }
}
