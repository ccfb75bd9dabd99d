using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.Ops;
using Builder.Core.Registry;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Export.Cache;

/// <summary>
/// Reads <c>--cache-from</c> sources: only the cache manifest and config up front. A source that is
/// missing or malformed is a warning and is skipped; the build goes on with what is left.
/// </summary>
public sealed class CacheImporter(IContentStore content, ISnapshotter snapshots, ILayerStore layers, RegistryClientFactory registries)
{
    /// <summary>The records of every readable source (the first source wins a key both hold).</summary>
    public async Task<ImportedCache> LoadAsync(IEnumerable<(string Type, IReadOnlyDictionary<string, string> Attributes)> sources,
        Action<string> warn, CancellationToken ct)
    {
        var records = new Dictionary<Digest, (CacheRecord, IBlobSource)>();
        foreach (var (type, attributes) in sources)
        {
            var name = Describe(type, attributes);
            try
            {
                var (config, blobs) = await ReadAsync(type, attributes, ct).ConfigureAwait(false);
                foreach (var record in config.Records) records.TryAdd(record.Key, (record, blobs));
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                warn($"cache import from {name} skipped: {e.Message}");
            }
        }
        return new ImportedCache(records, content, snapshots, layers, warn);
    }

    private static string Describe(string type, IReadOnlyDictionary<string, string> attributes) =>
        $"type={type}" + string.Concat(attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $",{a.Key}={a.Value}"));

    private async Task<(CacheConfig, IBlobSource)> ReadAsync(string type, IReadOnlyDictionary<string, string> attributes, CancellationToken ct)
    {
        switch (type)
        {
            case "local":
            {
                var dir = attributes.GetValueOrDefault("src") is { Length: > 0 } src ? Path.GetFullPath(src) : throw new ArgumentException("type=local needs src=DIR");
                var source = new LayoutBlobs(dir, content);
                var tag = attributes.GetValueOrDefault("tag") is { Length: > 0 } t ? t : CacheFormat.DefaultTag;
                var indexPath = Path.Combine(dir, "index.json");
                if (!File.Exists(indexPath)) throw new FileNotFoundException($"{dir} holds no cache (no index.json)");
                var index = ImageIndex.FromJson(await File.ReadAllBytesAsync(indexPath, ct).ConfigureAwait(false));
                var entry = index.Manifests.FirstOrDefault(m => m.Annotations?.GetValueOrDefault(OciArchiveExporter.RefNameAnnotation) == tag)
                    ?? throw new InvalidDataException($"{dir} has no cache tagged \"{tag}\"");
                await source.EnsureAsync(entry, ct).ConfigureAwait(false);
                return (await ReadConfigAsync(entry, source, ct).ConfigureAwait(false), source);
            }
            case "registry":
            {
                var reference = ImageReference.Parse(attributes.GetValueOrDefault("ref") is { Length: > 0 } r ? r : throw new ArgumentException("type=registry needs ref=REF"));
                var client = registries.For(reference.Registry);
                // A manifest under a tag is small and read fresh each build; blobs are fetched only when needed.
                var manifest = await client.GetManifestAsync(reference.Repository, reference.Digest?.ToString() ?? reference.Tag!, ct).ConfigureAwait(false);
                await content.PutAsync(new MemoryStream(manifest.Content), manifest.Descriptor.MediaType, manifest.Descriptor.Digest, ct).ConfigureAwait(false);
                var source = new RegistryBlobs(client, reference.Repository, content);
                return (await ReadConfigAsync(manifest.Descriptor, source, ct).ConfigureAwait(false), source);
            }
            default:
                throw new ArgumentException($"unsupported cache type \"{type}\" (local, registry)");
        }
    }

    /// <summary>
    /// The manifest (already stored) → its cache config: a cache artifact's config blob, or the
    /// inline cache in an image's config (<c>--cache-to type=inline</c>; an index picks this host's platform).
    /// </summary>
    private async Task<CacheConfig> ReadConfigAsync(Descriptor manifestDescriptor, IBlobSource source, CancellationToken ct)
    {
        if (MediaTypes.IsIndex(manifestDescriptor.MediaType))
        {
            var index = ImageIndex.FromJson(await content.ReadAllBytesAsync(manifestDescriptor.Digest, ct).ConfigureAwait(false));
            var child = index.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == Platform.Host.Os && p.Architecture == Platform.Host.Architecture)
                ?? throw new InvalidDataException($"the index has no manifest for {Platform.Host}");
            await source.EnsureAsync(child, ct).ConfigureAwait(false);
            manifestDescriptor = child;
        }
        if (!MediaTypes.IsManifest(manifestDescriptor.MediaType))
            throw new InvalidDataException($"{manifestDescriptor.MediaType} is not a cache manifest");
        var manifest = ImageManifest.FromJson(await content.ReadAllBytesAsync(manifestDescriptor.Digest, ct).ConfigureAwait(false));
        await source.EnsureAsync(manifest.Config, ct).ConfigureAwait(false);
        var config = await content.ReadAllBytesAsync(manifest.Config.Digest, ct).ConfigureAwait(false);
        if (CacheFormat.IsCacheManifest(manifest)) return CacheConfig.FromJson(config);
        if (ImageConfig.FromJson(config).InlineCache is { } inline) return CacheConfig.FromJson(System.Text.Encoding.UTF8.GetBytes(inline.GetRawText()));
        throw new InvalidDataException("neither a builder cache nor an image with an inline cache (build it with --cache-to type=inline)");
    }
}

/// <summary>Where an imported cache's blobs come from; a blob is copied into the content store only when asked.</summary>
internal interface IBlobSource
{
    Task EnsureAsync(Descriptor blob, CancellationToken ct);
}

/// <summary>An OCI layout directory (<c>type=local</c>).</summary>
internal sealed class LayoutBlobs(string dir, IContentStore content) : IBlobSource
{
    public async Task EnsureAsync(Descriptor blob, CancellationToken ct)
    {
        if (content.Exists(blob.Digest)) return;
        await using var file = File.OpenRead(Path.Combine(dir, "blobs", blob.Digest.Algorithm, blob.Digest.Hex));
        await content.PutAsync(file, blob.MediaType, blob.Digest, ct).ConfigureAwait(false);
    }
}

/// <summary>A repository of a registry (<c>type=registry</c>).</summary>
internal sealed class RegistryBlobs(RegistryClient client, string repository, IContentStore content) : IBlobSource
{
    public async Task EnsureAsync(Descriptor blob, CancellationToken ct)
    {
        if (content.Exists(blob.Digest)) return;
        if (MediaTypes.IsManifest(blob.MediaType) || MediaTypes.IsIndex(blob.MediaType))
        {
            // Manifests are served from the manifests endpoint, verified against the digest asked for.
            var manifest = await client.GetManifestAsync(repository, blob.Digest.ToString(), ct).ConfigureAwait(false);
            await content.PutAsync(new MemoryStream(manifest.Content), manifest.Descriptor.MediaType, blob.Digest, ct).ConfigureAwait(false);
            return;
        }
        await client.FetchBlobAsync(repository, blob, content, ct).ConfigureAwait(false);
    }
}

/// <summary>
/// The records of the imported caches, consulted by the solver after a local miss. A hit unpacks the
/// record's layer chain by chain id (as base images are), fetching a blob only when its chain id is
/// not unpacked yet; a failure is a warning and a miss.
/// </summary>
public sealed class ImportedCache : ICacheSource
{
    private readonly IReadOnlyDictionary<Digest, (CacheRecord Record, IBlobSource Blobs)> _records;
    private readonly IContentStore _content;
    private readonly ISnapshotter _snapshots;
    private readonly ILayerStore _layers;
    private readonly Action<string> _warn;

    internal ImportedCache(IReadOnlyDictionary<Digest, (CacheRecord, IBlobSource)> records, IContentStore content,
        ISnapshotter snapshots, ILayerStore layers, Action<string> warn)
    {
        _records = records;
        _content = content;
        _snapshots = snapshots;
        _layers = layers;
        _warn = warn;
    }

    public int Count => _records.Count;

    /// <summary>The imported record of <paramref name="cacheKey"/>, without materialising anything.</summary>
    public CacheRecord? Find(Digest cacheKey) => _records.TryGetValue(cacheKey, out var found) ? found.Record : null;

    /// <summary>Copies a blob some imported record names into the content store (for re-exporting it elsewhere).</summary>
    public async Task EnsureBlobAsync(Descriptor blob, CancellationToken ct)
    {
        if (_content.Exists(blob.Digest)) return;
        var source = _records.Values.FirstOrDefault(r => r.Record.Layers.Any(l => l.Blob.Digest == blob.Digest)).Blobs
            ?? throw new InvalidOperationException($"blob {blob.Digest} is in no imported cache");
        await source.EnsureAsync(blob, ct).ConfigureAwait(false);
    }

    public async Task<string?> MaterialiseAsync(Digest cacheKey, CancellationToken ct)
    {
        if (!_records.TryGetValue(cacheKey, out var found)) return null;
        var (record, blobs) = found;
        try
        {
            // A chain id is unpacked only over its parent, so once one layer has to be unpacked every later
            // one has to be too: from there on, all remaining blobs are downloaded at once while unpacking in order.
            var fetches = new Dictionary<Digest, Task>();
            Task Fetch(Descriptor blob)
            {
                lock (fetches)
                {
                    if (!fetches.TryGetValue(blob.Digest, out var fetch))
                        fetches[blob.Digest] = fetch = blobs.EnsureAsync(blob, ct);
                    return fetch;
                }
            }

            string? parent = null;
            Digest? chainId = null;
            for (var i = 0; i < record.Layers.Count; i++)
            {
                var layer = record.Layers[i];
                var remaining = record.Layers.Skip(i);
                chainId = ImageSourceWorker.NextChainId(chainId, layer.DiffId);
                var snapshot = await _snapshots.ApplyLayerAsync(chainId.Value.ToString(), parent, async token =>
                {
                    foreach (var next in remaining) _ = Fetch(next.Blob);
                    await Fetch(layer.Blob).WaitAsync(token).ConfigureAwait(false);
                    return await Decompression.OpenAsync(_content.OpenRead(layer.Blob.Digest), token).ConfigureAwait(false);
                }, ct).ConfigureAwait(false);
                await _layers.RecordAsync(snapshot.Id, new Layer(layer.Blob, layer.DiffId), ct).ConfigureAwait(false);
                parent = snapshot.Id;
            }
            return parent;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _warn($"cache record {cacheKey} ({record.Description}) could not be used: {e.Message}");
            return null;
        }
    }
}
