using Builder.Core.Graph;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Solver;

/// <summary>
/// Cache records in the metadata database: cache key → snapshot id, with when each was made and
/// last used (for GC). A record can outlive its snapshot (pruned, or lost in a crash between
/// commit and record), so every hit is checked with <c>resultExists</c>; a dangling record is
/// deleted and reported as a miss, and the op simply runs again.
/// </summary>
public sealed class SqliteCacheRecords : ICacheRecords
{
    private readonly StateRoot _state;
    private readonly Func<string, CancellationToken, Task<bool>> _resultExists;
    private readonly TimeProvider _time;

    /// <param name="resultExists">Whether the snapshot with this id still exists.</param>
    public SqliteCacheRecords(StateRoot state, Func<string, CancellationToken, Task<bool>> resultExists, TimeProvider? time = null)
    {
        _state = state;
        _resultExists = resultExists;
        _time = time ?? TimeProvider.System;
        using var db = _state.OpenDatabase();
        Execute(db, """
            CREATE TABLE IF NOT EXISTS cache_records (
                key TEXT PRIMARY KEY,
                snapshot_id TEXT NOT NULL,
                created INTEGER NOT NULL,
                last_used INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS cache_records_snapshot ON cache_records (snapshot_id);
            """);
    }

    public async Task<string?> LookupAsync(Digest cacheKey, CancellationToken ct)
    {
        await using var db = _state.OpenDatabase();
        var snapshotId = (string?)await ScalarAsync(db, "SELECT snapshot_id FROM cache_records WHERE key = $key", ct, ("$key", cacheKey.ToString())).ConfigureAwait(false);
        if (snapshotId is null) return null;

        if (!await _resultExists(snapshotId, ct).ConfigureAwait(false))
        {
            // Only this exact record: a concurrent build may have just stored a fresh one.
            await ExecuteAsync(db, "DELETE FROM cache_records WHERE key = $key AND snapshot_id = $snapshot", ct,
                ("$key", cacheKey.ToString()), ("$snapshot", snapshotId)).ConfigureAwait(false);
            return null;
        }

        await ExecuteAsync(db, "UPDATE cache_records SET last_used = $now WHERE key = $key", ct,
            ("$key", cacheKey.ToString()), ("$now", Now())).ConfigureAwait(false);
        return snapshotId;
    }

    public async Task StoreAsync(Digest cacheKey, string snapshotId, CancellationToken ct)
    {
        await using var db = _state.OpenDatabase();
        await ExecuteAsync(db, """
            INSERT INTO cache_records (key, snapshot_id, created, last_used) VALUES ($key, $snapshot, $now, $now)
            ON CONFLICT (key) DO UPDATE SET snapshot_id = excluded.snapshot_id, created = excluded.created, last_used = excluded.last_used
            """, ct, ("$key", cacheKey.ToString()), ("$snapshot", snapshotId), ("$now", Now())).ConfigureAwait(false);
    }

    /// <summary>Unix milliseconds.</summary>
    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static void Execute(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task ExecuteAsync(SqliteConnection db, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection db, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    private static SqliteCommand Command(SqliteConnection db, string sql, (string Name, object Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}
