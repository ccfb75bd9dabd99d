using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Export;

/// <summary>
/// The local image store keeps layers uncompressed, as Docker's does: compressing every layer of
/// every build for a store that never sends it was the slowest part of a rebuild. A registry wants
/// them compressed, so pushing turns an image's uncompressed layers into gzip ones here — once per
/// layer: each pair is remembered, and a re-push compresses nothing.
/// </summary>
/// <remarks>
/// A gzip blob the layer store already made for the same layer (an OCI export, a cache export) is
/// used as it is, so every export of one layer names one blob — cache records included.
/// </remarks>
public sealed class LayerConversion(StateRoot root, IContentStore content, ILayerStore layers)
{
    /// <summary>The manifest to push: <paramref name="target"/> itself, or a copy whose uncompressed layers are gzip.</summary>
    public async Task<Descriptor> ToCompressedAsync(Descriptor target, CancellationToken ct)
    {
        // Indexes are pushed as they are: our builds make single manifests, and pulled indexes are compressed.
        if (!MediaTypes.IsManifest(target.MediaType)) return target;
        var manifest = ImageManifest.FromJson(await content.ReadAllBytesAsync(target.Digest, ct).ConfigureAwait(false));
        if (!manifest.Layers.Any(IsUncompressed)) return target;

        var docker = manifest.MediaType == MediaTypes.DockerManifest;
        // One gzip stream keeps one core busy and is the slowest part of a push: compress the
        // layers side by side. Each layer's blob is the same as when made alone.
        var compressed = new System.Collections.Concurrent.ConcurrentDictionary<Digest, Descriptor>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct };
        await Parallel.ForEachAsync(manifest.Layers.Where(IsUncompressed).DistinctBy(l => l.Digest), parallel,
            async (layer, token) => compressed[layer.Digest] = await CompressAsync(layer, docker, token).ConfigureAwait(false)).ConfigureAwait(false);
        var layers = manifest.Layers.Select(layer => IsUncompressed(layer) ? compressed[layer.Digest] : layer).ToList();
        using var json = new MemoryStream((manifest with { Layers = layers }).ToJson());
        return await content.PutAsync(json, manifest.MediaType, null, ct).ConfigureAwait(false);
    }

    private static bool IsUncompressed(Descriptor layer) => layer.MediaType is MediaTypes.OciLayer or MediaTypes.DockerLayer;

    private async Task<Descriptor> CompressAsync(Descriptor layer, bool docker, CancellationToken ct)
    {
        var mediaType = docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip;
        if (await layers.FindBlobAsync(layer.Digest, LayerCompression.Gzip, ct).ConfigureAwait(false) is { } made)
            return made with { MediaType = mediaType };
        if (await FindAsync(layer.Digest, docker, ct).ConfigureAwait(false) is { } known && content.Exists(known.Digest))
            return known;

        await using var writer = content.OpenWriter();
        await using (var gzip = LayerCompressor.Compress(writer.Stream, LayerCompression.Gzip)!)
        await using (var input = content.OpenRead(layer.Digest))
            await input.CopyToAsync(gzip, ct).ConfigureAwait(false);
        var blob = await writer.CommitAsync(docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip, null, ct).ConfigureAwait(false);
        await SaveAsync(layer.Digest, blob, ct).ConfigureAwait(false);
        return blob;
    }

    private async Task<Descriptor?> FindAsync(Digest source, bool docker, CancellationToken ct)
    {
        await using var db = Open();
        await using var query = db.CreateCommand();
        query.CommandText = "SELECT digest, size FROM layer_conversions WHERE source = $source";
        query.Parameters.AddWithValue("$source", source.ToString());
        await using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        return new Descriptor(docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip, Digest.Parse(reader.GetString(0)), reader.GetInt64(1));
    }

    private async Task SaveAsync(Digest source, Descriptor blob, CancellationToken ct)
    {
        await using var db = Open();
        await using var insert = db.CreateCommand();
        insert.CommandText = "INSERT OR REPLACE INTO layer_conversions (source, digest, size) VALUES ($source, $digest, $size)";
        insert.Parameters.AddWithValue("$source", source.ToString());
        insert.Parameters.AddWithValue("$digest", blob.Digest.ToString());
        insert.Parameters.AddWithValue("$size", blob.Size);
        await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private SqliteConnection Open()
    {
        var db = root.OpenDatabase();
        using var create = db.CreateCommand();
        create.CommandText = "CREATE TABLE IF NOT EXISTS layer_conversions (source TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL)";
        create.ExecuteNonQuery();
        return db;
    }
}
