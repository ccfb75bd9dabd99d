using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.Snapshots;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Export;

/// <summary>
/// Layers of snapshots, made once and remembered in the state database (table <c>layers</c>).
/// A layer is produced in one streaming pass: the differ writes the tar into a stream that hashes
/// it (the diff_id) and hands it to the compressor, whose output the content writer hashes again
/// (the blob digest) on its way to disk. No layer is ever held in memory.
/// <para>
/// The key is (snapshot, compression, timestamp): a SOURCE_DATE_EPOCH clamps mtimes and so gives
/// other bytes. A layer recorded from an unpacked image is valid for every timestamp, as BuildKit
/// keeps base layers untouched.
/// </para>
/// </summary>
public sealed class LayerStore : ILayerStore
{
    /// <summary>Timestamp key of layers recorded from images: they are reused whatever the epoch.</summary>
    private const string AnyTimestamp = "*";

    private readonly StateRoot _root;
    private readonly IContentStore _content;
    private readonly ISnapshotter _snapshotter;
    private readonly ILayerDiffer _differ;

    public LayerStore(StateRoot root, IContentStore content, ISnapshotter snapshotter, ILayerDiffer differ)
    {
        _root = root;
        _content = content;
        _snapshotter = snapshotter;
        _differ = differ;
        using var db = root.OpenDatabase();
        using var create = db.CreateCommand();
        create.CommandText = """
            CREATE TABLE IF NOT EXISTS layers (
                snapshot_id TEXT NOT NULL,
                compression TEXT NOT NULL,
                timestamp   TEXT NOT NULL,
                media_type  TEXT NOT NULL,
                digest      TEXT NOT NULL,
                size        INTEGER NOT NULL,
                diff_id     TEXT NOT NULL,
                PRIMARY KEY (snapshot_id, compression, timestamp)
            )
            """;
        create.ExecuteNonQuery();
    }

    public async Task<IReadOnlyList<Layer>> LayersAsync(string? snapshotId, LayerCompression compression, DateTimeOffset? timestamp, CancellationToken ct)
    {
        if (snapshotId is null) return [];
        var layers = new List<Layer>();
        foreach (var snapshot in await _snapshotter.ChainAsync(snapshotId, ct).ConfigureAwait(false))
            layers.Add(await LayerOfAsync(snapshot, compression, timestamp, ct).ConfigureAwait(false) with { Created = snapshot.Created });
        return layers;
    }

    public Task RecordAsync(string snapshotId, Layer layer, CancellationToken ct)
    {
        var compression = LayerCompressor.CompressionOf(layer.Blob.MediaType)
            ?? throw new ArgumentException($"unsupported layer media type {layer.Blob.MediaType}", nameof(layer));
        return SaveAsync(snapshotId, compression, AnyTimestamp, layer, ct);
    }

    private async Task<Layer> LayerOfAsync(SnapshotInfo snapshot, LayerCompression compression, DateTimeOffset? timestamp, CancellationToken ct)
    {
        var key = TimestampKey(timestamp);
        // A recorded blob may have been garbage-collected since; then the layer is made again.
        if (await FindAsync(snapshot.Id, compression, key, ct).ConfigureAwait(false) is { } known && _content.Exists(known.Blob.Digest))
            return known;

        var layer = await DiffAsync(snapshot, compression, timestamp, ct).ConfigureAwait(false);
        await SaveAsync(snapshot.Id, compression, key, layer, ct).ConfigureAwait(false);
        return layer;
    }

    private async Task<Layer> DiffAsync(SnapshotInfo snapshot, LayerCompression compression, DateTimeOffset? timestamp, CancellationToken ct)
    {
        await using var writer = _content.OpenWriter();
        Digest diffId;
        var compressor = LayerCompressor.Compress(writer.Stream, compression);
        await using (compressor)
        await using (var tar = new DigestingStream(compressor ?? writer.Stream, leaveOpen: true))
        {
            await _differ.WriteLayerAsync(snapshot, tar, timestamp, ct).ConfigureAwait(false);
            diffId = tar.Digest;
        }
        // The compressor is closed now, so its final block is in the writer.
        var blob = await writer.CommitAsync(LayerCompressor.MediaTypeOf(compression), null, ct).ConfigureAwait(false);
        return new Layer(blob, diffId);
    }

    public async Task<Descriptor?> FindBlobAsync(Digest diffId, LayerCompression compression, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var select = db.CreateCommand();
        select.CommandText = "SELECT media_type, digest, size FROM layers WHERE diff_id = $diffId AND compression = $compression";
        select.Parameters.AddWithValue("$diffId", diffId.ToString());
        select.Parameters.AddWithValue("$compression", compression.ToString());
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var blob = new Descriptor(reader.GetString(0), Digest.Parse(reader.GetString(1)), reader.GetInt64(2));
            if (_content.Exists(blob.Digest)) return blob;
        }
        return null;
    }

    private async Task<Layer?> FindAsync(string snapshotId, LayerCompression compression, string timestampKey, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var select = db.CreateCommand();
        select.CommandText = """
            SELECT media_type, digest, size, diff_id FROM layers
            WHERE snapshot_id = $snapshot AND compression = $compression AND timestamp IN ($timestamp, $any)
            ORDER BY timestamp = $any DESC
            LIMIT 1
            """;
        select.Parameters.AddWithValue("$snapshot", snapshotId);
        select.Parameters.AddWithValue("$compression", compression.ToString());
        select.Parameters.AddWithValue("$timestamp", timestampKey);
        select.Parameters.AddWithValue("$any", AnyTimestamp);
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        return new Layer(
            new Descriptor(reader.GetString(0), Digest.Parse(reader.GetString(1)), reader.GetInt64(2)),
            Digest.Parse(reader.GetString(3)));
    }

    private async Task SaveAsync(string snapshotId, LayerCompression compression, string timestampKey, Layer layer, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var upsert = db.CreateCommand();
        upsert.CommandText = """
            INSERT OR REPLACE INTO layers (snapshot_id, compression, timestamp, media_type, digest, size, diff_id)
            VALUES ($snapshot, $compression, $timestamp, $mediaType, $digest, $size, $diffId)
            """;
        upsert.Parameters.AddWithValue("$snapshot", snapshotId);
        upsert.Parameters.AddWithValue("$compression", compression.ToString());
        upsert.Parameters.AddWithValue("$timestamp", timestampKey);
        upsert.Parameters.AddWithValue("$mediaType", layer.Blob.MediaType);
        upsert.Parameters.AddWithValue("$digest", layer.Blob.Digest.ToString());
        upsert.Parameters.AddWithValue("$size", layer.Blob.Size);
        upsert.Parameters.AddWithValue("$diffId", layer.DiffId.ToString());
        await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static string TimestampKey(DateTimeOffset? timestamp) =>
        timestamp is { } t ? t.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
}
