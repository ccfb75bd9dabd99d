using System.Formats.Tar;
using Builder.Core.Export;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

public sealed class LayerStoreTests : IDisposable
{
    private readonly ExportFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData(LayerCompression.Gzip, MediaTypes.OciLayerGzip)]
    [InlineData(LayerCompression.Zstd, MediaTypes.OciLayerZstd)]
    [InlineData(LayerCompression.Uncompressed, MediaTypes.OciLayer)]
    public async Task One_pass_gives_the_right_diff_id_and_blob_digest(LayerCompression compression, string mediaType)
    {
        var top = _fixture.AddSampleChain();

        var layers = await _fixture.Layers.LayersAsync(top, compression, null, CancellationToken.None);

        Assert.Equal(2, layers.Count);
        foreach (var layer in layers)
        {
            Assert.Equal(mediaType, layer.Blob.MediaType);
            Assert.Equal(layer.Blob.Size, _fixture.Content.SizeOf(layer.Blob.Digest));
            await using (var blob = _fixture.Content.OpenRead(layer.Blob.Digest))
                Assert.Equal(layer.Blob.Digest, await Digest.Sha256Async(blob, CancellationToken.None));
            await using (var tar = LayerCompressor.Decompress(_fixture.Content.OpenRead(layer.Blob.Digest), mediaType))
                Assert.Equal(layer.DiffId, await Digest.Sha256Async(tar, CancellationToken.None));
        }
        Assert.Equal(["app/", "app/data.bin"], await EntryNamesAsync(layers[1], mediaType));
    }

    [Fact]
    public async Task A_second_call_reuses_the_recorded_layers()
    {
        var top = _fixture.AddSampleChain();

        var first = await _fixture.Layers.LayersAsync(top, LayerCompression.Gzip, null, CancellationToken.None);
        Assert.Equal(2, _fixture.Differ.Calls);
        var second = await _fixture.Layers.LayersAsync(top, LayerCompression.Gzip, null, CancellationToken.None);

        Assert.Equal(2, _fixture.Differ.Calls);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Another_compression_or_epoch_is_another_layer()
    {
        var top = _fixture.AddSampleChain();

        await _fixture.Layers.LayersAsync(top, LayerCompression.Gzip, null, CancellationToken.None);
        await _fixture.Layers.LayersAsync(top, LayerCompression.Zstd, null, CancellationToken.None);
        await _fixture.Layers.LayersAsync(top, LayerCompression.Gzip, DateTimeOffset.FromUnixTimeSeconds(1000), CancellationToken.None);

        Assert.Equal(6, _fixture.Differ.Calls);
    }

    [Fact]
    public async Task A_layer_recorded_from_an_image_is_reused_for_any_epoch()
    {
        _fixture.Snapshotter.Add("unpacked", null, _ => { });
        var blob = await _fixture.Content.PutAsync(new MemoryStream(new byte[1024]), MediaTypes.DockerLayer, null, CancellationToken.None);
        var recorded = new Layer(blob, blob.Digest);
        await _fixture.Layers.RecordAsync("unpacked", recorded, CancellationToken.None);

        var layers = await _fixture.Layers.LayersAsync("unpacked", LayerCompression.Uncompressed, DateTimeOffset.UnixEpoch, CancellationToken.None);

        Assert.Equal([recorded], layers);
        Assert.Equal(0, _fixture.Differ.Calls);
    }

    [Fact]
    public async Task Gzip_blobs_are_identical_across_runs()
    {
        var top = _fixture.AddSampleChain();
        var first = await _fixture.Layers.LayersAsync(top, LayerCompression.Gzip, null, CancellationToken.None);

        using var other = new ExportFixture();
        other.AddSampleChain();
        var second = await other.Layers.LayersAsync(top, LayerCompression.Gzip, null, CancellationToken.None);

        Assert.Equal(first, second);
        await using var blob = _fixture.Content.OpenRead(first[0].Blob.Digest);
        var header = new byte[10];
        await blob.ReadExactlyAsync(header);
        Assert.Equal([0, 0, 0, 0], header[4..8]); // gzip MTIME is zero
        Assert.Equal(0, header[3]); // FLG: no file name, no comment, no extra
    }

    private async Task<List<string>> EntryNamesAsync(Layer layer, string mediaType)
    {
        await using var tar = LayerCompressor.Decompress(_fixture.Content.OpenRead(layer.Blob.Digest), mediaType);
        await using var reader = new TarReader(tar);
        var names = new List<string>();
        while (await reader.GetNextEntryAsync() is { } entry) names.Add(entry.Name);
        return names;
    }
}
