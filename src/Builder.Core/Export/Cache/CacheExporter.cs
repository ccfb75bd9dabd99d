using System.Text;
using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.Registry;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Export.Cache;

/// <summary>Which results a cache export keeps.</summary>
public enum CacheMode
{
    /// <summary>The steps whose snapshots are in the final result's chain (the final stage).</summary>
    Min,

    /// <summary>Every step of every stage this build materialised.</summary>
    Max,
}

/// <summary>Where a cache export goes: an OCI layout directory or a registry reference.</summary>
public sealed record CacheTarget(string Type, string Location, CacheMode Mode, LayerCompression Compression)
{
    /// <summary>The tag inside a local OCI layout.</summary>
    public string Tag { get; init; } = CacheFormat.DefaultTag;

    /// <summary>Reads <c>--cache-to</c> attributes: <c>type=local,dest=DIR</c> or <c>type=registry,ref=REF</c>, with <c>mode</c>, <c>compression</c>, <c>tag</c>.</summary>
    public static CacheTarget Parse(string type, IReadOnlyDictionary<string, string> attributes)
    {
        var mode = attributes.GetValueOrDefault("mode") switch
        {
            null or "" or "min" => CacheMode.Min,
            "max" => CacheMode.Max,
            var other => throw new ArgumentException($"--cache-to: mode must be min or max, not \"{other}\""),
        };
        var compression = attributes.GetValueOrDefault("compression") switch
        {
            null or "" or "gzip" => LayerCompression.Gzip,
            "zstd" => LayerCompression.Zstd,
            "uncompressed" => LayerCompression.Uncompressed,
            var other => throw new ArgumentException($"--cache-to: unknown compression \"{other}\""),
        };
        var location = type switch
        {
            "local" => attributes.GetValueOrDefault("dest") is { Length: > 0 } dest ? Path.GetFullPath(dest) : throw new ArgumentException("--cache-to type=local needs dest=DIR"),
            "inline" => "",
            "registry" => attributes.GetValueOrDefault("ref") is { Length: > 0 } reference ? ImageReference.Parse(reference).ToString() : throw new ArgumentException("--cache-to type=registry needs ref=REF"),
            _ => throw new ArgumentException($"--cache-to: unsupported cache type \"{type}\" (inline, local, registry)"),
        };
        // Inline records can only name the image's own layers: min by nature.
        if (type == "inline") mode = CacheMode.Min;
        return new CacheTarget(type, location, mode, compression) { Tag = attributes.GetValueOrDefault("tag") is { Length: > 0 } tag ? tag : CacheFormat.DefaultTag };
    }
}

/// <summary>How much an export wrote.</summary>
public sealed record CacheExportResult(Descriptor Manifest, int Records, int BlobsWritten, int BlobsReused);

/// <summary>
/// Writes the records of a solve as a cache artifact (docs/cache-format.md). Layers are the same
/// blobs the image exporters use (one diff per snapshot, remembered by the layer store). Blobs the
/// destination already holds are not sent again; the manifest (registry) or index.json (local) is
/// written last, so an export that fails half-way leaves the previous cache whole.
/// </summary>
public sealed class CacheExporter(IContentStore content, ILayerStore layers, ISnapshotter snapshots, RegistryClientFactory registries)
{
    private static readonly byte[] LayoutFile = Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}""");

    /// <param name="imported">the build's imported cache: records of steps a cache hit made unnecessary are
    /// carried over from it (so re-exporting to the cache one imported never loses records), their blobs
    /// fetched only when the destination lacks them.</param>
    public async Task<CacheExportResult> ExportAsync(CacheTarget target, IReadOnlyCollection<SolvedRecord> solved, string? finalSnapshot,
        DateTimeOffset? timestamp, ImportedCache? imported, CancellationToken ct)
    {
        var records = await CollectAsync(target, solved, finalSnapshot, timestamp, imported, ct).ConfigureAwait(false);
        var config = await content.PutAsync(new MemoryStream(new CacheConfig { Records = records }.ToJson()), CacheFormat.ConfigMediaType, null, ct).ConfigureAwait(false);
        var blobs = records.SelectMany(r => r.Layers).Select(l => l.Blob).DistinctBy(b => b.Digest)
            .OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal).ToList();
        var manifestJson = new ImageManifest { ArtifactType = CacheFormat.ConfigMediaType, Config = config, Layers = blobs }.ToJson();
        var manifest = await content.PutAsync(new MemoryStream(manifestJson), MediaTypes.OciManifest, null, ct).ConfigureAwait(false);

        var (written, reused) = target.Type == "registry"
            ? await PushAsync(target, manifest, manifestJson, [config, .. blobs], imported, ct).ConfigureAwait(false)
            : await WriteLayoutAsync(target, manifest, [config, .. blobs], imported, ct).ConfigureAwait(false);
        return new CacheExportResult(manifest, records.Count, written, reused);
    }

    /// <summary>
    /// <c>type=inline</c>: the records of the final image's steps, for the image config. Only records
    /// whose every layer is one of the image's own are kept: those are the blobs a reader of the image finds.
    /// </summary>
    public async Task<CacheConfig> InlineAsync(IReadOnlyCollection<SolvedRecord> solved, string? finalSnapshot, DateTimeOffset? timestamp,
        ImportedCache? imported, CancellationToken ct)
    {
        var target = new CacheTarget("inline", "", CacheMode.Min, LayerCompression.Gzip);
        var records = await CollectAsync(target, solved, finalSnapshot, timestamp, imported, ct).ConfigureAwait(false);
        // The image drops layers that diff to an empty tar, so a record naming one could not be fetched from it.
        return new CacheConfig { Records = [.. records.Where(r => !r.Layers.Any(l => ImageAssembler.IsEmptyLayer(new Layer(l.Blob, l.DiffId))))] };
    }

    private async Task<List<CacheRecord>> CollectAsync(CacheTarget target, IReadOnlyCollection<SolvedRecord> solved, string? finalSnapshot,
        DateTimeOffset? timestamp, ImportedCache? imported, CancellationToken ct)
    {
        var chosen = await ChooseAsync(target.Mode, solved, finalSnapshot, ct).ConfigureAwait(false);
        var byKey = new Dictionary<Digest, CacheRecord>();
        foreach (var record in chosen)
        {
            var chain = await layers.LayersAsync(record.SnapshotId, target.Compression, timestamp, ct).ConfigureAwait(false);
            if (chain.Count == 0) continue;
            byKey[record.Key] = new CacheRecord(record.Key, record.Inputs, [.. chain.Select(l => new CacheLayer(l.Blob, l.DiffId))])
            {
                Description = record.VertexName,
            };
        }
        if (imported is not null)
        {
            var finalLayers = target.Mode == CacheMode.Min && finalSnapshot is not null
                ? (await layers.LayersAsync(finalSnapshot, target.Compression, timestamp, ct).ConfigureAwait(false)).Select(l => l.Blob.Digest).ToList()
                : null;
            CarryOver(byKey, solved, imported, finalLayers);
        }
        return [.. byKey.Values.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)];
    }

    /// <summary>
    /// Adds the imported records of the solved records' ancestors (inputs, transitively) that this solve
    /// never needed; with mode=min only those whose layers begin the final image's layers.
    /// </summary>
    private static void CarryOver(Dictionary<Digest, CacheRecord> byKey, IReadOnlyCollection<SolvedRecord> solved, ImportedCache imported, List<Digest>? finalLayers)
    {
        var pending = new Stack<Digest>(solved.SelectMany(r => r.Inputs));
        var seen = new HashSet<Digest>(solved.Select(r => r.Key));
        while (pending.TryPop(out var key))
        {
            if (!seen.Add(key) || imported.Find(key) is not { } record) continue;
            foreach (var input in record.Inputs) pending.Push(input);
            if (byKey.ContainsKey(key)) continue;
            if (finalLayers is not null && (record.Layers.Count > finalLayers.Count
                || !record.Layers.Select(l => l.Blob.Digest).SequenceEqual(finalLayers.Take(record.Layers.Count)))) continue;
            byKey[key] = record;
        }
    }

    /// <summary>Blobs the repository lacks (HEAD first), then the manifest under the tag: readers never see a manifest whose blobs are missing.</summary>
    private async Task<(int Written, int Reused)> PushAsync(CacheTarget target, Descriptor manifest, byte[] manifestJson,
        IReadOnlyList<Descriptor> blobs, ImportedCache? imported, CancellationToken ct)
    {
        var reference = ImageReference.Parse(target.Location);
        var client = registries.For(reference.Registry);
        int written = 0, reused = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = registries.Options.MaxConcurrentTransfers, CancellationToken = ct };
        async Task SendAsync(Descriptor blob, bool trustHead, CancellationToken token)
        {
            if (trustHead && await client.BlobExistsAsync(reference.Repository, blob.Digest, token).ConfigureAwait(false))
            {
                Interlocked.Increment(ref reused);
                return;
            }
            if (imported is not null) await imported.EnsureBlobAsync(blob, token).ConfigureAwait(false);
            await client.UploadBlobAsync(reference.Repository, blob, () => content.OpenRead(blob.Digest), null, token).ConfigureAwait(false);
            Interlocked.Increment(ref written);
        }

        var tag = reference.Tag ?? manifest.Digest.ToString();
        await Parallel.ForEachAsync(blobs, parallel, (blob, token) => new ValueTask(SendAsync(blob, trustHead: true, token))).ConfigureAwait(false);
        try
        {
            await client.PutManifestAsync(reference.Repository, tag, manifest.MediaType, manifestJson, ct).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Status == System.Net.HttpStatusCode.BadRequest)
        {
            // Another builder exporting to the same cache can be mid-upload of a shared blob: HEAD said
            // it was there, yet the manifest PUT finds it unknown. Send every blob ourselves, then once more.
            await Parallel.ForEachAsync(blobs, parallel, (blob, token) => new ValueTask(SendAsync(blob, trustHead: false, token))).ConfigureAwait(false);
            await client.PutManifestAsync(reference.Repository, tag, manifest.MediaType, manifestJson, ct).ConfigureAwait(false);
        }
        return (written, reused);
    }

    /// <summary>min: the records whose snapshot is in the final result's chain; max: all.</summary>
    private async Task<IEnumerable<SolvedRecord>> ChooseAsync(CacheMode mode, IReadOnlyCollection<SolvedRecord> solved, string? finalSnapshot, CancellationToken ct)
    {
        if (mode == CacheMode.Max) return solved;
        if (finalSnapshot is null) return [];
        var chain = (await snapshots.ChainAsync(finalSnapshot, ct).ConfigureAwait(false)).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        return solved.Where(r => chain.Contains(r.SnapshotId));
    }

    /// <summary>Blobs first (each published by rename, existing ones kept), then index.json replaced atomically.</summary>
    private async Task<(int Written, int Reused)> WriteLayoutAsync(CacheTarget target, Descriptor manifest, IReadOnlyList<Descriptor> blobs,
        ImportedCache? imported, CancellationToken ct)
    {
        var blobDir = Path.Combine(target.Location, "blobs", "sha256");
        Directory.CreateDirectory(blobDir);
        int written = 0, reused = 0;
        foreach (var blob in blobs.Append(manifest))
        {
            var path = Path.Combine(blobDir, blob.Digest.Hex);
            if (File.Exists(path) && new FileInfo(path).Length == blob.Size) { reused++; continue; }
            if (imported is not null && blob.Digest != manifest.Digest) await imported.EnsureBlobAsync(blob, ct).ConfigureAwait(false);
            await PublishAsync(path, async (file, token) =>
            {
                await using var source = content.OpenRead(blob.Digest);
                await source.CopyToAsync(file, token).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            written++;
        }

        var layoutPath = Path.Combine(target.Location, "oci-layout");
        if (!File.Exists(layoutPath))
            await PublishAsync(layoutPath, (file, token) => file.WriteAsync(LayoutFile, token).AsTask(), ct).ConfigureAwait(false);

        var indexPath = Path.Combine(target.Location, "index.json");
        var others = ReadIndexOrEmpty(indexPath).Manifests
            .Where(m => m.Annotations?.GetValueOrDefault(OciArchiveExporter.RefNameAnnotation) != target.Tag);
        var entry = manifest with
        {
            Annotations = new Dictionary<string, string> { [OciArchiveExporter.RefNameAnnotation] = target.Tag },
        };
        var index = new ImageIndex { Manifests = [.. others, entry] };
        await PublishAsync(indexPath, (file, token) => file.WriteAsync(index.ToJson(), token).AsTask(), ct).ConfigureAwait(false);
        return (written, reused);
    }

    /// <summary>
    /// Writes a file under a temp name of its own, fsyncs it and renames it into place: readers see the
    /// old file or the new one, and two builders exporting to one directory at once never share a temp file.
    /// </summary>
    private static async Task PublishAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken ct)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(file, ct).ConfigureAwait(false);
                await file.FlushAsync(ct).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static ImageIndex ReadIndexOrEmpty(string path)
    {
        try { return File.Exists(path) ? ImageIndex.FromJson(File.ReadAllBytes(path)) : new ImageIndex(); }
        catch (System.Text.Json.JsonException) { return new ImageIndex(); }
    }
}
