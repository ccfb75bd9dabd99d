using System.Text.Json;
using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.Registry;

namespace Builder.Core.Tests.Registry;

public sealed class PushPullTests(PlainRegistryFixture registry) : IClassFixture<PlainRegistryFixture>
{
    private readonly string _address = registry.Server.Address;
    private static CancellationToken Ct => CancellationToken.None;

    private ImageReference Ref(string repository, string tag = "v1") => ImageReference.Parse($"{_address}/{repository}:{tag}");

    [Fact]
    public async Task A_pushed_image_pulls_back_into_an_empty_store_unchanged()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content, layerCount: 3);
        var result = await pusher.Pusher().PushAsync(image, Ref("roundtrip"), null, Ct);
        Assert.Equal(4, result.Uploaded); // config + 3 layers

        using var puller = new RegistrySide();
        var resolver = puller.Resolver();
        var resolved = await resolver.ResolveAsync(Ref("roundtrip").ToString(), Platform.Host, Ct);
        await resolver.EnsureLayersAsync(resolved, Ct);

        Assert.Equal(image.Digest, resolved.ManifestDigest);
        foreach (var digest in await TestImages.BlobsOfAsync(pusher.Content, image.Digest))
            Assert.Equal(await pusher.Content.ReadAllBytesAsync(digest, Ct), await puller.Content.ReadAllBytesAsync(digest, Ct));
    }

    [Fact]
    public async Task Skopeo_inspect_reads_what_we_pushed()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content);
        await pusher.Pusher().PushAsync(image, Ref("inspected"), null, Ct);

        var output = await Skopeo.RunAsync("inspect", "--tls-verify=false", $"docker://{Ref("inspected")}");
        using var inspect = JsonDocument.Parse(output);
        Assert.Equal(image.Digest.ToString(), inspect.RootElement.GetProperty("Digest").GetString());
        Assert.Equal(2, inspect.RootElement.GetProperty("Layers").GetArrayLength());
        Assert.Equal(Platform.Host.Architecture, inspect.RootElement.GetProperty("Architecture").GetString());
    }

    [Theory]
    [InlineData("oci", MediaTypes.OciManifest)]
    [InlineData("v2s2", MediaTypes.DockerManifest)]
    public async Task We_pull_what_skopeo_pushed(string format, string expectedMediaType)
    {
        using var source = new RegistrySide();
        var image = await TestImages.CreateAsync(source.Content);
        var layout = Path.Combine(source.RootPath, "layout");
        await TestImages.WriteOciLayoutAsync(source.Content, image, layout, "v1");
        var repository = "from-skopeo-" + format;
        await Skopeo.RunAsync("copy", "--insecure-policy", "--dest-tls-verify=false", "--format", format, $"oci:{layout}:v1", $"docker://{Ref(repository)}");

        using var puller = new RegistrySide();
        var resolver = puller.Resolver();
        var resolved = await resolver.ResolveAsync(Ref(repository).ToString(), Platform.Host, Ct);
        await resolver.EnsureLayersAsync(resolved, Ct);

        Assert.Equal(expectedMediaType, resolved.Manifest.MediaType);
        Assert.Equal(2, resolved.Manifest.Layers.Count);
        Assert.All(resolved.Manifest.Layers, layer => Assert.True(puller.Content.Exists(layer.Digest)));
        Assert.Equal(Platform.Host.Architecture, resolved.Config.Architecture);
    }

    [Fact]
    public async Task A_multi_platform_index_resolves_to_the_host_platform()
    {
        using var source = new RegistrySide();
        var other = Platform.Host.Architecture == "s390x" ? new Platform("ppc64le", "linux") : new Platform("s390x", "linux");
        var index = await TestImages.CreateIndexAsync(source.Content, other, Platform.Host);
        var layout = Path.Combine(source.RootPath, "layout");
        await TestImages.WriteOciLayoutAsync(source.Content, index, layout, "multi");
        await Skopeo.RunAsync("copy", "--insecure-policy", "--dest-tls-verify=false", "--all", $"oci:{layout}:multi", $"docker://{Ref("multi", "multi")}");

        using var puller = new RegistrySide();
        var resolver = puller.Resolver();
        var resolved = await resolver.ResolveAsync(Ref("multi", "multi").ToString(), Platform.Host, Ct);
        await resolver.EnsureLayersAsync(resolved, Ct);

        var hostManifest = ImageIndex.FromJson(await source.Content.ReadAllBytesAsync(index.Digest, Ct)).Manifests.Single(m => m.Platform == Platform.Host);
        Assert.Equal(hostManifest.Digest, resolved.ManifestDigest);
        Assert.Equal(Platform.Host.Architecture, resolved.Config.Architecture);
        // Only the chosen platform's layers came down.
        var otherManifest = ImageIndex.FromJson(await source.Content.ReadAllBytesAsync(index.Digest, Ct)).Manifests.Single(m => m.Platform == other);
        Assert.False(puller.Content.Exists(otherManifest.Digest));
    }

    [Fact]
    public async Task An_index_we_push_is_read_by_skopeo_and_pulled_back_per_platform()
    {
        using var pusher = new RegistrySide();
        var index = await TestImages.CreateIndexAsync(pusher.Content, new Platform("arm64", "linux"), new Platform("amd64", "linux"));
        await pusher.Pusher().PushAsync(index, Ref("pushed-index"), null, Ct);

        var raw = await Skopeo.RunAsync("inspect", "--raw", "--tls-verify=false", $"docker://{Ref("pushed-index")}");
        Assert.Equal(index.Digest, Digest.Sha256(raw));

        using var puller = new RegistrySide();
        var arm = await puller.Resolver().ResolveAsync(Ref("pushed-index").ToString(), new Platform("arm64", "linux"), Ct);
        Assert.Equal("arm64", arm.Config.Architecture);
    }

    [Fact]
    public async Task A_second_push_of_the_same_image_uploads_no_blob()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content, layerCount: 3);
        await pusher.Pusher().PushAsync(image, Ref("twice"), null, Ct);
        var uploadsAfterFirst = pusher.Traffic.Uploads;

        var second = await pusher.Pusher().PushAsync(image, Ref("twice", "again"), null, Ct);

        Assert.True(uploadsAfterFirst >= 4, $"the first push uploaded {uploadsAfterFirst} times");
        Assert.Equal(uploadsAfterFirst, pusher.Traffic.Uploads);
        Assert.Equal((0, 0, 4), (second.Uploaded, second.Mounted, second.AlreadyPresent));
    }

    [Fact]
    public async Task A_push_to_another_repository_mounts_blobs_instead_of_uploading()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content, layerCount: 2);
        await pusher.Pusher().PushAsync(image, Ref("mount-source"), null, Ct);
        var uploadsAfterFirst = pusher.Traffic.Uploads;

        var second = await pusher.Pusher().PushAsync(image, Ref("mount-target"), null, Ct);

        Assert.Equal((0, 3), (second.Uploaded, second.Mounted));
        Assert.Equal(uploadsAfterFirst, pusher.Traffic.Uploads);
        Assert.Contains(pusher.Traffic.Requests, r => r.StartsWith("POST /v2/mount-target/blobs/uploads/?mount=", StringComparison.Ordinal) && r.Contains("from=mount-source"));
    }

    [Fact]
    public async Task A_digest_reference_whose_content_is_stored_makes_no_request()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content);
        await pusher.Pusher().PushAsync(image, Ref("pinned"), null, Ct);
        using var puller = new RegistrySide();
        var pinned = $"{_address}/pinned@{image.Digest}";
        var first = await puller.Resolver().ResolveAsync(pinned, Platform.Host, Ct);
        await puller.Resolver().EnsureLayersAsync(first, Ct);
        var requestsAfterPull = puller.Traffic.Requests.Count;

        var again = await puller.Resolver().ResolveAsync(pinned, Platform.Host, Ct);
        await puller.Resolver().EnsureLayersAsync(again, Ct);

        Assert.True(requestsAfterPull > 0);
        Assert.Equal(requestsAfterPull, puller.Traffic.Requests.Count);
        Assert.Equal(image.Digest, again.ManifestDigest);
    }

    [Fact]
    public async Task A_tag_is_re_resolved_with_one_HEAD_and_stored_content_is_not_fetched_again()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content);
        await pusher.Pusher().PushAsync(image, Ref("retag"), null, Ct);
        using var puller = new RegistrySide();
        var resolved = await puller.Resolver().ResolveAsync(Ref("retag").ToString(), Platform.Host, Ct);
        await puller.Resolver().EnsureLayersAsync(resolved, Ct);
        var before = puller.Traffic.Requests.Count;

        await puller.Resolver().ResolveAsync(Ref("retag").ToString(), Platform.Host, Ct);

        Assert.Equal([$"HEAD /v2/retag/manifests/v1"], puller.Traffic.Requests.Skip(before));
    }

    [Fact]
    public async Task A_corrupted_blob_is_rejected_by_digest_and_nothing_is_stored()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content, layerCount: 1, layerSize: 100_000);
        await pusher.Pusher().PushAsync(image, Ref("corrupt"), null, Ct);
        var layer = ImageManifest.FromJson(await pusher.Content.ReadAllBytesAsync(image.Digest, Ct)).Layers[0];
        FlipAByte(registry.Server.BlobDataPath(layer.Digest));

        using var puller = new RegistrySide();
        var resolver = puller.Resolver();
        var resolved = await resolver.ResolveAsync(Ref("corrupt").ToString(), Platform.Host, Ct);
        var error = await Assert.ThrowsAsync<DigestMismatchException>(() => resolver.EnsureLayersAsync(resolved, Ct));

        Assert.Contains(layer.Digest.ToString(), error.Message);
        Assert.Contains($"{_address}/corrupt", error.Message);
        Assert.False(puller.Content.Exists(layer.Digest));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(puller.RootPath, "tmp")));
    }

    [Fact]
    public async Task A_missing_tag_is_image_not_found_naming_registry_repository_and_tag()
    {
        using var puller = new RegistrySide();
        var error = await Assert.ThrowsAsync<ImageNotFoundException>(() => puller.Resolver().ResolveAsync(Ref("nothing-here", "nope").ToString(), Platform.Host, Ct));
        Assert.Contains($"{_address}/nothing-here", error.Message);
        Assert.Contains("nope", error.Message);
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff()
    {
        using var pusher = new RegistrySide();
        var image = await TestImages.CreateAsync(pusher.Content);
        await pusher.Pusher().PushAsync(image, Ref("flaky"), null, Ct);
        var failures = 2;
        using var puller = new RegistrySide(new RegistryOptions
        {
            WrapHandler = inner => new FailingHandler(inner, () => Interlocked.Decrement(ref failures) >= 0),
        });

        var resolved = await puller.Resolver().ResolveAsync(Ref("flaky").ToString(), Platform.Host, Ct);

        Assert.Equal(image.Digest, resolved.ManifestDigest);
    }

    private static void FlipAByte(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length / 2;
        var b = file.ReadByte();
        file.Position = file.Length / 2;
        file.WriteByte((byte)(b ^ 0xff));
    }

    /// <summary>Answers 503 in front of the real registry while <paramref name="fail"/> says so.</summary>
    private sealed class FailingHandler(HttpMessageHandler inner, Func<bool> fail) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri!.AbsolutePath.Contains("/manifests/", StringComparison.Ordinal) && fail() ? Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable)) : base.SendAsync(request, cancellationToken);
    }
}
