using Builder.Core.Export;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

public sealed class ImageAssemblerTests : IDisposable
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private readonly ExportFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static Layer FakeLayer(string seed) => new(new Descriptor(MediaTypes.OciLayerGzip, Digest.Sha256(seed), 10), Digest.Sha256("diff " + seed));
    private static Layer EmptyLayer => new(new Descriptor(MediaTypes.OciLayerGzip, Digest.Sha256("empty gz"), 32), ImageAssembler.EmptyLayerDiffId);
    private static HistoryEntry Step(string createdBy, bool empty = false) => new() { CreatedBy = createdBy, EmptyLayer = empty ? true : null };

    [Fact]
    public void Empty_tar_layers_are_dropped_and_their_step_marked_empty()
    {
        var (layers, history) = ImageAssembler.NormaliseLayersAndHistory(
            [FakeLayer("base"), EmptyLayer, FakeLayer("copy")],
            [Step("FROM"), Step("RUN true"), Step("ENV A=1", empty: true), Step("COPY . /")]);

        Assert.Equal([FakeLayer("base"), FakeLayer("copy")], layers);
        Assert.Equal([null, true, true, null], history.Select(h => h.EmptyLayer));
        Assert.Equal(["FROM", "RUN true", "ENV A=1", "COPY . /"], history.Select(h => h.CreatedBy));
    }

    [Fact]
    public void Missing_history_is_padded_in_front()
    {
        var (layers, history) = ImageAssembler.NormaliseLayersAndHistory(
            [FakeLayer("a"), FakeLayer("b"), FakeLayer("c")], [Step("RUN x")]);

        Assert.Equal(3, layers.Count);
        Assert.Equal(3, history.Count(h => h.EmptyLayer != true));
        Assert.Equal("RUN x", history[^1].CreatedBy);
    }

    [Fact]
    public void Surplus_history_claims_are_marked_empty_from_the_oldest()
    {
        var (layers, history) = ImageAssembler.NormaliseLayersAndHistory(
            [FakeLayer("a")], [Step("one"), Step("two"), Step("three")]);

        Assert.Single(layers);
        Assert.Equal([true, true, null], history.Select(h => h.EmptyLayer));
    }

    [Fact]
    public async Task Assembles_config_and_manifest_into_the_content_store()
    {
        var top = _fixture.AddSampleChain();
        _fixture.Snapshotter.Add("noop", top, _ => { });
        var output = new BuildOutput("noop", new ImageConfig
        {
            Architecture = "amd64",
            Config = new ContainerConfig { Cmd = ["/bin/sh"] },
            History = [Step("base"), Step("COPY app"), Step("RUN true")],
        });

        var image = await _fixture.Assembler.AssembleAsync(output, new ExportOptions(), CancellationToken.None);

        var config = ImageConfig.FromJson(await _fixture.Content.ReadAllBytesAsync(image.Config.Digest, CancellationToken.None));
        var manifest = ImageManifest.FromJson(await _fixture.Content.ReadAllBytesAsync(image.Manifest.Digest, CancellationToken.None));
        Assert.Equal(MediaTypes.OciManifest, image.Manifest.MediaType);
        Assert.Equal(image.Config, manifest.Config);
        Assert.Equal(2, manifest.Layers.Count);
        Assert.Equal(2, config.RootFs.DiffIds.Count);
        Assert.Equal([null, null, true], config.History.Select(h => h.EmptyLayer));
        Assert.All(manifest.Layers, l => Assert.True(_fixture.Content.Exists(l.Digest)));
    }

    [Fact]
    public async Task Docker_media_types_on_request()
    {
        var top = _fixture.AddSampleChain();
        var image = await _fixture.Assembler.AssembleAsync(new BuildOutput(top, new ImageConfig()), new ExportOptions { OciMediaTypes = false }, CancellationToken.None);

        Assert.Equal(MediaTypes.DockerManifest, image.ManifestContent.MediaType);
        Assert.Equal(MediaTypes.DockerConfig, image.Config.MediaType);
        Assert.All(image.ManifestContent.Layers, l => Assert.Equal(MediaTypes.DockerLayerGzip, l.MediaType));
    }

    [Fact]
    public async Task Source_date_epoch_gives_identical_digests_across_runs()
    {
        var options = new ExportOptions { SourceDateEpoch = Epoch };
        var config = new ImageConfig
        {
            Architecture = "amd64",
            History = [new HistoryEntry { CreatedBy = "base", Created = DateTimeOffset.FromUnixTimeSeconds(1_000) }, new HistoryEntry { CreatedBy = "COPY", Created = DateTimeOffset.UtcNow }],
        };
        var top = _fixture.AddSampleChain();
        var first = await _fixture.Assembler.AssembleAsync(new BuildOutput(top, config), options, CancellationToken.None);

        // A second, independent store: files written at another moment, history stamped at another time.
        using var other = new ExportFixture();
        other.AddSampleChain();
        var later = config with { History = [config.History[0], config.History[1] with { Created = DateTimeOffset.UtcNow.AddHours(1) }] };
        var second = await other.Assembler.AssembleAsync(new BuildOutput(top, later), options, CancellationToken.None);

        Assert.Equal(first.Manifest, second.Manifest);
        Assert.Equal(first.Config, second.Config);
        Assert.Equal(Epoch, first.ConfigContent.Created);
        Assert.Equal([DateTimeOffset.FromUnixTimeSeconds(1_000), Epoch], first.ConfigContent.History.Select(h => h.Created));
    }
}
