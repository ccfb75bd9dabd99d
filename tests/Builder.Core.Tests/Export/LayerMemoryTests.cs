using Builder.Core.Export;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Export;

[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements;

/// <summary>Runs alone: it reads the process-wide allocation counter.</summary>
[Collection(nameof(MemoryMeasurements))]
public sealed class LayerMemoryTests : IDisposable
{
    private readonly TempStateRoot _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public async Task A_huge_layer_is_streamed_not_buffered()
    {
        const long layerSize = 512L << 20;
        var content = new Builder.Core.Oci.ContentStore(_state.Root);
        var snapshotter = new FakeSnapshotter(_state.Scratch("snapshots"));
        snapshotter.Add("big", null, _ => { });
        var layers = new LayerStore(_state.Root, content, snapshotter, new GeneratingDiffer(layerSize));

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var layer = (await layers.LayersAsync("big", LayerCompression.Gzip, null, CancellationToken.None)).Single();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(layer.Blob.Size > 0);
        Assert.True(allocated < 32L << 20, $"diffing a {layerSize >> 20} MiB layer allocated {allocated >> 20} MiB");
    }

    /// <summary>Writes a layer of the given size in 64 KiB chunks of varied bytes, as a stand-in for a big tar.</summary>
    private sealed class GeneratingDiffer(long size) : ILayerDiffer
    {
        public async Task WriteLayerAsync(SnapshotInfo snapshot, Stream output, DateTimeOffset? timestamp, CancellationToken ct)
        {
            var chunk = new byte[64 * 1024];
            var random = new Random(42);
            for (long written = 0; written < size; written += chunk.Length)
            {
                random.NextBytes(chunk.AsSpan(0, 256)); // mostly compressible, never constant
                await output.WriteAsync(chunk, ct);
            }
        }
    }
}
