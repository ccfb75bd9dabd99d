using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Registry;

/// <summary>Small images made in memory: gzip layer tars with random files, config, manifest, index.</summary>
public static class TestImages
{
    /// <summary>A single-platform image whose layers are unique to this call. Returns the manifest's descriptor.</summary>
    public static async Task<Descriptor> CreateAsync(IContentStore store, int layerCount = 2, Platform? platform = null, int layerSize = 4096)
    {
        platform ??= Platform.Host;
        var layers = new List<Descriptor>();
        var diffIds = new List<Digest>();
        for (var i = 0; i < layerCount; i++)
        {
            var (tar, diffId) = MakeLayer($"file-{i}.bin", RandomNumberGenerator.GetBytes(layerSize));
            layers.Add(await store.PutAsync(new MemoryStream(tar), MediaTypes.OciLayerGzip, null, CancellationToken.None));
            diffIds.Add(diffId);
        }
        var config = new ImageConfig
        {
            Architecture = platform.Architecture,
            Os = platform.Os,
            Variant = platform.Variant,
            RootFs = new RootFs { DiffIds = diffIds },
            Config = new ContainerConfig { Cmd = ["/bin/sh"] },
        };
        var configDescriptor = await store.PutAsync(new MemoryStream(config.ToJson()), MediaTypes.OciConfig, null, CancellationToken.None);
        var manifest = new ImageManifest { Config = configDescriptor, Layers = layers };
        return await store.PutAsync(new MemoryStream(manifest.ToJson()), MediaTypes.OciManifest, null, CancellationToken.None);
    }

    /// <summary>An index of one image per platform.</summary>
    public static async Task<Descriptor> CreateIndexAsync(IContentStore store, params Platform[] platforms)
    {
        var manifests = new List<Descriptor>();
        foreach (var platform in platforms)
            manifests.Add(await CreateAsync(store, 1, platform) with { Platform = platform });
        var index = new ImageIndex { Manifests = manifests };
        return await store.PutAsync(new MemoryStream(index.ToJson()), MediaTypes.OciIndex, null, CancellationToken.None);
    }

    /// <summary>Every blob an image (manifest or index) needs, as stored in <paramref name="store"/>.</summary>
    public static async Task<IReadOnlyList<Digest>> BlobsOfAsync(IContentStore store, Digest manifestDigest)
    {
        var json = await store.ReadAllBytesAsync(manifestDigest, CancellationToken.None);
        if (MediaTypes.IsIndex(ManifestReader.MediaTypeOf(json)))
        {
            var children = new List<Digest> { manifestDigest };
            foreach (var child in ImageIndex.FromJson(json).Manifests)
                children.AddRange(await BlobsOfAsync(store, child.Digest));
            return children;
        }
        var manifest = ImageManifest.FromJson(json);
        return [manifestDigest, manifest.Config.Digest, .. manifest.Layers.Select(l => l.Digest)];
    }

    /// <summary>
    /// Writes an OCI image layout (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/</c>) with the
    /// image tagged <paramref name="tag"/>, for skopeo to copy from.
    /// </summary>
    public static async Task WriteOciLayoutAsync(IContentStore store, Descriptor target, string directory, string tag)
    {
        var blobsDir = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobsDir);
        foreach (var digest in await BlobsOfAsync(store, target.Digest))
            await File.WriteAllBytesAsync(Path.Combine(blobsDir, digest.Hex), await store.ReadAllBytesAsync(digest, CancellationToken.None));
        await File.WriteAllTextAsync(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var entry = target with { Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag } };
        var index = new ImageIndex { Manifests = [entry] };
        await File.WriteAllBytesAsync(Path.Combine(directory, "index.json"), index.ToJson());
    }

    private static (byte[] Gzip, Digest DiffId) MakeLayer(string name, byte[] content)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), ModificationTime = DateTimeOffset.UnixEpoch };
            writer.WriteEntry(entry);
        }
        var gzip = new MemoryStream();
        using (var compressor = new GZipStream(gzip, CompressionLevel.Fastest, leaveOpen: true))
            compressor.Write(tar.ToArray());
        return (gzip.ToArray(), Digest.Sha256(tar.ToArray()));
    }
}

/// <summary>Counts requests by method and path, to prove what went over the wire.</summary>
public sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private readonly List<string> _requests = [];

    public IReadOnlyList<string> Requests { get { lock (_requests) return [.. _requests]; } }

    /// <summary>POST/PUT/PATCH to an upload URL: a blob being sent.</summary>
    public int Uploads => Requests.Count(r => r.Contains("/blobs/uploads/", StringComparison.Ordinal) && !r.Contains("mount=", StringComparison.Ordinal));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (_requests) _requests.Add($"{request.Method} {request.RequestUri?.PathAndQuery}");
        return base.SendAsync(request, cancellationToken);
    }
}
