using Builder.Core.Graph;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Oci;

/// <summary>
/// Image names in the state database (table <c>images</c>). Names are stored normalised
/// (<see cref="ImageReference"/>), so <c>hello</c> and <c>docker.io/library/hello:latest</c> are
/// one image. Each put is a single upsert in a transaction: a tag moves from one manifest to
/// another in one step and a reader sees either the old target or the new one.
/// </summary>
public sealed class ImageStore : IImageStore
{
    private readonly StateRoot _root;

    public ImageStore(StateRoot root)
    {
        _root = root;
        using var db = root.OpenDatabase();
        using var create = db.CreateCommand();
        create.CommandText = """
            CREATE TABLE IF NOT EXISTS images (
                name       TEXT PRIMARY KEY,
                media_type TEXT NOT NULL,
                digest     TEXT NOT NULL,
                size       INTEGER NOT NULL,
                updated    INTEGER NOT NULL
            )
            """;
        create.ExecuteNonQuery();
    }

    public async Task<ImageRecord?> GetAsync(string name, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var select = db.CreateCommand();
        select.CommandText = "SELECT name, media_type, digest, size, updated FROM images WHERE name = $name";
        select.Parameters.AddWithValue("$name", Normalise(name));
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadRecord(reader) : null;
    }

    public async Task PutAsync(string name, Descriptor target, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var transaction = (SqliteTransaction)await db.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var upsert = db.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO images (name, media_type, digest, size, updated) VALUES ($name, $mediaType, $digest, $size, $updated)
            ON CONFLICT(name) DO UPDATE SET media_type = excluded.media_type, digest = excluded.digest,
                                            size = excluded.size, updated = excluded.updated
            """;
        upsert.Parameters.AddWithValue("$name", Normalise(name));
        upsert.Parameters.AddWithValue("$mediaType", target.MediaType);
        upsert.Parameters.AddWithValue("$digest", target.Digest.ToString());
        upsert.Parameters.AddWithValue("$size", target.Size);
        upsert.Parameters.AddWithValue("$updated", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var select = db.CreateCommand();
        select.CommandText = "SELECT name, media_type, digest, size, updated FROM images ORDER BY name";
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var records = new List<ImageRecord>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) records.Add(ReadRecord(reader));
        return records;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var delete = db.CreateCommand();
        delete.CommandText = "DELETE FROM images WHERE name = $name";
        delete.Parameters.AddWithValue("$name", Normalise(name));
        return await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
    }

    private static string Normalise(string name) => ImageReference.Parse(name).ToString();

    private static ImageRecord ReadRecord(SqliteDataReader reader) => new(
        reader.GetString(0),
        new Descriptor(reader.GetString(1), Digest.Parse(reader.GetString(2)), reader.GetInt64(3)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));
}
