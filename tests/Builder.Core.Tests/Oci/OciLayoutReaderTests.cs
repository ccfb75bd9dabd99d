using Builder.Core.Export;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Oci;

/// <summary>Builds the busybox test base image once, with the repository's own script.</summary>
public sealed class BusyboxLayoutFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "builder-busybox-" + Guid.NewGuid().ToString("N"));

    public string Layout => Path.Combine(Directory, "oci");

    public async Task InitializeAsync() =>
        await ExternalTool.RunAsync(Path.Combine(ExternalTool.RepositoryRoot, "testdata", "images", "busybox", "make-layout.sh"), Layout);

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class OciLayoutReaderTests(BusyboxLayoutFixture busybox) : IClassFixture<BusyboxLayoutFixture>, IDisposable
{
    private readonly TempStateRoot _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public async Task Imports_the_busybox_layout_directory_by_tag()
    {
        var content = new ContentStore(_state.Root);

        var image = await new OciLayoutReader(content).ImportAsync($"oci-layout://{busybox.Layout}:latest", null, CancellationToken.None);

        Assert.Equal("amd64", image.Config.Architecture);
        Assert.Equal(["/bin/sh"], image.Config.Config.Cmd);
        Assert.Contains(image.Config.Config.Env!, e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal(image.ManifestContent.Layers.Count, image.Config.RootFs.DiffIds.Count);
        await AssertStoredAndVerifiedAsync(content, [image.Manifest, image.ManifestContent.Config, .. image.ManifestContent.Layers]);
    }

    [Fact]
    public async Task Imports_a_tar_of_the_layout_to_the_same_image()
    {
        var tar = Path.Combine(_state.Scratch("tar"), "busybox.tar");
        await ExternalTool.RunAsync("tar", "-C", busybox.Layout, "-cf", tar, ".");
        var content = new ContentStore(_state.Root);

        var fromTar = await new OciLayoutReader(content).ImportAsync(tar, null, CancellationToken.None);
        var fromDir = await new OciLayoutReader(content).ImportAsync(busybox.Layout, null, CancellationToken.None);

        Assert.Equal(fromDir.Manifest.Digest, fromTar.Manifest.Digest);
        await AssertStoredAndVerifiedAsync(content, fromTar.ManifestContent.Layers);
    }

    [Fact]
    public async Task A_corrupt_blob_is_refused_and_not_stored()
    {
        var copy = _state.Scratch("corrupt");
        await ExternalTool.RunAsync("cp", "-a", busybox.Layout + "/.", copy);
        var manifest = ImageManifest.FromJson(File.ReadAllBytes(Path.Combine(copy, "blobs", "sha256", ImageIndex.FromJson(File.ReadAllBytes(Path.Combine(copy, "index.json"))).Manifests[0].Digest.Hex)));
        var layer = manifest.Layers[0].Digest;
        await using (var file = File.OpenWrite(Path.Combine(copy, "blobs", "sha256", layer.Hex))) file.WriteByte(0);
        var content = new ContentStore(_state.Root);

        await Assert.ThrowsAsync<InvalidDataException>(() => new OciLayoutReader(content).ImportAsync(copy, null, CancellationToken.None));
        Assert.False(content.Exists(layer));
    }

    [Fact]
    public async Task Reads_back_an_exported_oci_archive()
    {
        var content = new ContentStore(_state.Root);
        var imported = await new OciLayoutReader(content).ImportAsync(busybox.Layout, null, CancellationToken.None);
        var archive = Path.Combine(_state.Scratch("out"), "again.tar");

        using var other = new TempStateRoot();
        var otherContent = new ContentStore(other.Root);
        var layers = new FixedLayerStore(imported.ManifestContent.Layers.Zip(imported.Config.RootFs.DiffIds, (blob, diffId) => new Layer(blob, diffId)).ToList());
        var exporter = new OciArchiveExporter(new ImageAssembler(content, layers), content, archive, "busybox:again");
        var exported = await exporter.ExportAsync(new BuildOutput("top", imported.Config), new ExportOptions(), CancellationToken.None);

        var reread = await new OciLayoutReader(otherContent).ImportAsync($"oci-layout://{archive}:again", null, CancellationToken.None);
        Assert.Equal(exported.Manifest, reread.Manifest with { Annotations = null });
        Assert.Equal(imported.Config.RootFs.DiffIds, reread.Config.RootFs.DiffIds);
    }

    private static async Task AssertStoredAndVerifiedAsync(IContentStore content, IEnumerable<Descriptor> blobs)
    {
        foreach (var blob in blobs)
        {
            Assert.Equal(blob.Size, content.SizeOf(blob.Digest));
            await using var stream = content.OpenRead(blob.Digest);
            Assert.Equal(blob.Digest, await Digest.Sha256Async(stream, CancellationToken.None));
        }
    }

    /// <summary>The layers an image already has, as if its snapshots had been unpacked from it.</summary>
    private sealed class FixedLayerStore(IReadOnlyList<Layer> layers) : ILayerStore
    {
        public Task<IReadOnlyList<Layer>> LayersAsync(string? snapshotId, LayerCompression compression, DateTimeOffset? timestamp, CancellationToken ct) => Task.FromResult(layers);
        public Task RecordAsync(string snapshotId, Layer layer, CancellationToken ct) => Task.CompletedTask;
        public Task<Descriptor?> FindBlobAsync(Digest diffId, LayerCompression compression, CancellationToken ct) =>
            Task.FromResult(layers.FirstOrDefault(l => l.DiffId == diffId)?.Blob);
    }
}
