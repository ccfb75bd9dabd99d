using System.Formats.Tar;
using System.Text.Json;
using Builder.Core.Export;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

public sealed class ArchiveExporterTests : IDisposable
{
    private static readonly ExportOptions Reproducible = new() { SourceDateEpoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000) };
    private readonly ExportFixture _fixture = new();
    private readonly BuildOutput _output;

    public ArchiveExporterTests()
    {
        var top = _fixture.AddSampleChain();
        _output = new BuildOutput(top, new ImageConfig
        {
            Architecture = "amd64",
            Config = new ContainerConfig { Cmd = ["/bin/tool"] },
            History = [new HistoryEntry { CreatedBy = "base" }, new HistoryEntry { CreatedBy = "COPY app /app" }],
        });
    }

    public void Dispose() => _fixture.Dispose();

    private string Scratch(string name) => _fixture.State.Scratch(name);

    [Fact]
    public async Task Oci_archive_is_accepted_by_skopeo_and_umoci()
    {
        var archive = Path.Combine(Scratch("out"), "image.tar");
        var result = await new OciArchiveExporter(_fixture.Assembler, _fixture.Content, archive, "example/app:v1").ExportAsync(_output, Reproducible, CancellationToken.None);

        using var inspect = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", $"oci-archive:{archive}:v1"));
        Assert.Equal(result.Manifest!.Digest.ToString(), inspect.RootElement.GetProperty("Digest").GetString());
        Assert.Equal(2, inspect.RootElement.GetProperty("Layers").GetArrayLength());

        var layout = Scratch("layout");
        await ExternalTool.RunAsync("tar", "-xf", archive, "-C", layout);
        var bundle = Path.Combine(Scratch("unpack"), "bundle");
        await ExternalTool.RunAsync("umoci", "unpack", "--image", $"{layout}:v1", bundle);
        Assert.Equal(300_000, new FileInfo(Path.Combine(bundle, "rootfs", "app", "data.bin")).Length);
        Assert.Equal("tool", new FileInfo(Path.Combine(bundle, "rootfs", "bin", "alias")).LinkTarget);
        Assert.False(File.Exists(archive + ".tmp"));
    }

    [Fact]
    public async Task Oci_archive_entries_are_sorted_and_archives_reproducible()
    {
        var first = Path.Combine(Scratch("a"), "image.tar");
        var second = Path.Combine(Scratch("b"), "image.tar");
        await new OciArchiveExporter(_fixture.Assembler, _fixture.Content, first, "app").ExportAsync(_output, Reproducible, CancellationToken.None);
        await new OciArchiveExporter(_fixture.Assembler, _fixture.Content, second, "app").ExportAsync(_output, Reproducible, CancellationToken.None);

        Assert.Equal(await File.ReadAllBytesAsync(first), await File.ReadAllBytesAsync(second));
        var names = await EntryNamesAsync(first);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(["blobs/", "blobs/sha256/"], names.Take(2));
        Assert.Equal(["index.json", "oci-layout"], names.TakeLast(2));
    }

    [Fact]
    public async Task Docker_archive_has_a_manifest_json_that_docker_load_reads()
    {
        var archive = Path.Combine(Scratch("out"), "image.tar");
        var result = await new DockerArchiveExporter(_fixture.Assembler, _fixture.Content, archive, ["example/app:v1", "127.0.0.1:5000/app"])
            .ExportAsync(_output, Reproducible with { Compression = LayerCompression.Zstd }, CancellationToken.None);

        var files = await FilesAsync(archive);
        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        var image = Assert.Single(manifest.RootElement.EnumerateArray().ToList());
        Assert.Equal($"blobs/sha256/{result.ConfigDigest!.Value.Hex}", image.GetProperty("Config").GetString());
        Assert.Equal(["example/app:v1", "127.0.0.1:5000/app:latest"], image.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));

        var config = ImageConfig.FromJson(files[image.GetProperty("Config").GetString()!]);
        var layers = image.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList();
        Assert.Equal(config.RootFs.DiffIds.Count, layers.Count);
        foreach (var (layer, diffId) in layers.Zip(config.RootFs.DiffIds))
        {
            // docker load checks each layer's uncompressed digest against the config; zstd was turned into gzip.
            await using var tar = LayerCompressor.Decompress(new MemoryStream(files[layer]), MediaTypes.OciLayerGzip);
            Assert.Equal(diffId, await Graph.Digest.Sha256Async(tar, CancellationToken.None));
        }

        using var repositories = JsonDocument.Parse(files["repositories"]);
        Assert.True(repositories.RootElement.GetProperty("example/app").TryGetProperty("v1", out _));
    }

    [Fact]
    public async Task Image_store_exporter_tags_every_name_after_writing()
    {
        var result = await new ImageStoreExporter(_fixture.Assembler, _fixture.Images, ["app:1", "app:latest"]).ExportAsync(_output, new ExportOptions(), CancellationToken.None);

        foreach (var name in new[] { "docker.io/library/app:1", "app" })
            Assert.Equal(result.Manifest, (await _fixture.Images.GetAsync(name, CancellationToken.None))!.Target);
        Assert.True(_fixture.Content.Exists(result.Manifest!.Digest));
    }

    [Fact]
    public async Task Image_store_exporter_rejects_bad_names_before_doing_anything()
    {
        await Assert.ThrowsAsync<FormatException>(() =>
            new ImageStoreExporter(_fixture.Assembler, _fixture.Images, ["good", "Bad"]).ExportAsync(_output, new ExportOptions(), CancellationToken.None));

        Assert.Empty(await _fixture.Images.ListAsync(CancellationToken.None));
        Assert.Equal(0, _fixture.Differ.Calls);
    }

    private static async Task<List<string>> EntryNamesAsync(string archive) => (await FilesAsync(archive, keepDirectories: true)).Keys.ToList();

    private static async Task<Dictionary<string, byte[]>> FilesAsync(string archive, bool keepDirectories = false)
    {
        var files = new Dictionary<string, byte[]>();
        await using var reader = new TarReader(File.OpenRead(archive));
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            if (entry.EntryType == TarEntryType.Directory && !keepDirectories) continue;
            using var data = new MemoryStream();
            if (entry.DataStream is not null) await entry.DataStream.CopyToAsync(data);
            files.Add(entry.Name, data.ToArray());
        }
        return files;
    }
}
