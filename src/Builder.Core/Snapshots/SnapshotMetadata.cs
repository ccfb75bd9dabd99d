using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Snapshots;

internal enum SnapshotKind { Active, Committed }

internal sealed record SnapshotRecord(string Id, string? ParentId, SnapshotKind Kind, string? ChainId, DateTimeOffset Created);

/// <summary>
/// The <c>snapshots</c> table of the state database. Every change is one statement or one
/// transaction, so a crash leaves each snapshot either fully recorded or not at all. The parent
/// column is a foreign key: SQLite itself refuses to remove a snapshot that still has children.
/// </summary>
internal sealed class SnapshotMetadata(StateRoot root)
{
    private const int SqliteConstraint = 19;

    public async Task EnsureSchemaAsync(CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        await ExecuteAsync(db, """
            CREATE TABLE IF NOT EXISTS snapshots (
                id       TEXT PRIMARY KEY,
                parent   TEXT REFERENCES snapshots(id),
                kind     TEXT NOT NULL CHECK (kind IN ('active', 'committed')),
                chain_id TEXT UNIQUE,
                created  INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS snapshots_by_parent ON snapshots(parent);
            """, ct);
    }

    /// <summary>Records a new active snapshot; its parent must exist and be committed (checked by the same statement).</summary>
    public async Task InsertActiveAsync(string id, string? parentId, DateTimeOffset created, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        var inserted = await ExecuteAsync(db, """
            INSERT INTO snapshots (id, parent, kind, created)
            SELECT $id, $parent, 'active', $created
            WHERE $parent IS NULL OR EXISTS (SELECT 1 FROM snapshots WHERE id = $parent AND kind = 'committed')
            """, ct, ("$id", id), ("$parent", parentId), ("$created", created.ToUnixTimeMilliseconds()));
        if (inserted == 1) return;
        throw await GetAsync(db, parentId!, ct) is null
            ? new KeyNotFoundException($"parent snapshot {parentId} does not exist")
            : new InvalidOperationException($"parent snapshot {parentId} is not committed");
    }

    /// <summary>Turns an active snapshot into a committed one, optionally under a chain id.</summary>
    public async Task MarkCommittedAsync(string id, string? chainId, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        var changed = await ExecuteAsync(db, "UPDATE snapshots SET kind = 'committed', chain_id = $chain WHERE id = $id AND kind = 'active'", ct,
            ("$id", id), ("$chain", chainId));
        if (changed != 1) throw new InvalidOperationException($"snapshot {id} is not an active snapshot");
    }

    public async Task<SnapshotRecord?> GetAsync(string id, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        return await GetAsync(db, id, ct);
    }

    public async Task<SnapshotRecord?> FindByChainAsync(string chainId, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        var found = await QueryAsync(db, "SELECT id, parent, kind, chain_id, created FROM snapshots WHERE chain_id = $chain", ct, ("$chain", chainId));
        return found.SingleOrDefault();
    }

    /// <summary>The snapshot and its ancestors, base first.</summary>
    public async Task<IReadOnlyList<SnapshotRecord>> ChainAsync(string id, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        var chain = await QueryAsync(db, """
            WITH RECURSIVE chain(id, parent, kind, chain_id, created, depth) AS (
                SELECT id, parent, kind, chain_id, created, 0 FROM snapshots WHERE id = $id
                UNION ALL
                SELECT s.id, s.parent, s.kind, s.chain_id, s.created, chain.depth + 1
                FROM snapshots s JOIN chain ON s.id = chain.parent
            )
            SELECT id, parent, kind, chain_id, created FROM chain ORDER BY depth DESC
            """, ct, ("$id", id));
        return chain.Count > 0 ? chain : throw new KeyNotFoundException($"snapshot {id} does not exist");
    }

    public async Task<IReadOnlyList<SnapshotRecord>> ListAsync(CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        return await QueryAsync(db, "SELECT id, parent, kind, chain_id, created FROM snapshots", ct);
    }

    /// <summary>Deletes the record; refuses (through the foreign key) while another snapshot names it as parent.</summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        await using var db = root.OpenDatabase();
        try
        {
            await ExecuteAsync(db, "DELETE FROM snapshots WHERE id = $id", ct, ("$id", id));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new InvalidOperationException($"snapshot {id} is the parent of other snapshots", e);
        }
    }

    private static async Task<SnapshotRecord?> GetAsync(SqliteConnection db, string id, CancellationToken ct) =>
        (await QueryAsync(db, "SELECT id, parent, kind, chain_id, created FROM snapshots WHERE id = $id", ct, ("$id", id))).SingleOrDefault();

    private static async Task<int> ExecuteAsync(SqliteConnection db, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<SnapshotRecord>> QueryAsync(SqliteConnection db, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var records = new List<SnapshotRecord>();
        while (await reader.ReadAsync(ct))
        {
            records.Add(new SnapshotRecord(
                Id: reader.GetString(0),
                ParentId: reader.IsDBNull(1) ? null : reader.GetString(1),
                Kind: reader.GetString(2) == "committed" ? SnapshotKind.Committed : SnapshotKind.Active,
                ChainId: reader.IsDBNull(3) ? null : reader.GetString(3),
                Created: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }
        return records;
    }

    private static SqliteCommand Command(SqliteConnection db, string sql, (string Name, object? Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
