using Builder.Core.Graph;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Registry;

/// <summary>
/// Where blobs were seen on registries (pulled from or pushed to), in the state database
/// (table <c>registry_blobs</c>). A push to another repository of the same registry can then ask
/// the registry to mount the blob instead of sending its bytes again.
/// </summary>
public sealed class BlobLocations
{
    private readonly StateRoot _root;

    public BlobLocations(StateRoot root)
    {
        _root = root;
        using var db = root.OpenDatabase();
        using var create = db.CreateCommand();
        create.CommandText = """
            CREATE TABLE IF NOT EXISTS registry_blobs (
                registry   TEXT NOT NULL,
                digest     TEXT NOT NULL,
                repository TEXT NOT NULL,
                seen       INTEGER NOT NULL,
                PRIMARY KEY (registry, digest, repository)
            )
            """;
        create.ExecuteNonQuery();
    }

    public Task RecordAsync(string registry, string repository, Digest digest, CancellationToken ct) =>
        RecordAsync(registry, repository, [digest], ct);

    /// <summary>Records several blobs of one repository in one transaction.</summary>
    public async Task RecordAsync(string registry, string repository, IEnumerable<Digest> digests, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var transaction = (SqliteTransaction)await db.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var upsert = db.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO registry_blobs (registry, digest, repository, seen) VALUES ($registry, $digest, $repository, $seen)
            ON CONFLICT(registry, digest, repository) DO UPDATE SET seen = excluded.seen
            """;
        upsert.Parameters.AddWithValue("$registry", registry);
        var digest = upsert.Parameters.Add("$digest", SqliteType.Text);
        upsert.Parameters.AddWithValue("$repository", repository);
        upsert.Parameters.AddWithValue("$seen", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var blob in digests)
        {
            digest.Value = blob.ToString();
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Repositories of <paramref name="registry"/> other than <paramref name="except"/> where the blob was seen, most recent first.</summary>
    public async Task<IReadOnlyList<string>> OtherRepositoriesAsync(string registry, Digest digest, string except, CancellationToken ct)
    {
        await using var db = _root.OpenDatabase();
        await using var select = db.CreateCommand();
        select.CommandText = """
            SELECT repository FROM registry_blobs
            WHERE registry = $registry AND digest = $digest AND repository <> $except
            ORDER BY seen DESC
            """;
        select.Parameters.AddWithValue("$registry", registry);
        select.Parameters.AddWithValue("$digest", digest.ToString());
        select.Parameters.AddWithValue("$except", except);
        await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var repositories = new List<string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) repositories.Add(reader.GetString(0));
        return repositories;
    }
}
