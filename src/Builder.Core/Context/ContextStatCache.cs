using System.Collections.Concurrent;
using Builder.Core.Graph;
using Builder.Core.State;
using Microsoft.Data.Sqlite;

namespace Builder.Core.Context;

/// <summary>
/// Remembers, per context root, the content digest of each file together with the stat fields
/// that change whenever the file does (inode, size, mtime, ctime, mode, owner), so the next
/// build re-reads only files that changed. Lives in the metadata database, keyed by the
/// absolute root path. Thread-safe.
/// <para>
/// Lookups are served from memory (the root's rows are loaded once); what is learned is
/// written back in batches by <see cref="FlushAsync"/>, one transaction each, because one fsync
/// per file would cost more than hashing it. A lost batch only means re-hashing.
/// </para>
/// </summary>
public sealed class ContextStatCache
{
    private readonly StateRoot _state;
    private readonly string _root;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly ConcurrentQueue<(string Path, FileStatus Status, Digest Content)> _unsaved = new();
    private readonly Lazy<ConcurrentDictionary<string, (FileStatus Status, Digest Content)>> _known;

    public ContextStatCache(StateRoot state, string root)
    {
        _state = state;
        _root = Path.GetFullPath(root);
        _known = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The absolute context root this cache is for.</summary>
    public string Root => _root;

    /// <summary>The digest of the file's bytes if it is unchanged since it was last hashed.</summary>
    public Digest? Lookup(string relativePath, FileStatus status) =>
        _known.Value.TryGetValue(relativePath, out var known) && known.Status.IsSameVersionAs(status) ? known.Content : null;

    public void Remember(string relativePath, FileStatus status, Digest content)
    {
        _known.Value[relativePath] = (status, content);
        _unsaved.Enqueue((relativePath, status, content));
    }

    /// <summary>Writes what was remembered since the last flush.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_unsaved.IsEmpty) return;
        await _writer.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var db = _state.OpenDatabase();
            await using var transaction = (SqliteTransaction)await db.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var upsert = db.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT OR REPLACE INTO context_stat_cache (root, path, inode, size, mtime_ns, ctime_ns, mode, uid, gid, digest)
                VALUES ($root, $path, $inode, $size, $mtime, $ctime, $mode, $uid, $gid, $digest)
                """;
            var parameters = new[] { "$root", "$path", "$inode", "$size", "$mtime", "$ctime", "$mode", "$uid", "$gid", "$digest" }
                .ToDictionary(name => name, name => upsert.Parameters.Add(name, name is "$root" or "$path" or "$digest" ? SqliteType.Text : SqliteType.Integer));
            while (_unsaved.TryDequeue(out var row))
            {
                parameters["$root"].Value = _root;
                parameters["$path"].Value = row.Path;
                parameters["$inode"].Value = unchecked((long)row.Status.Inode);
                parameters["$size"].Value = row.Status.Size;
                parameters["$mtime"].Value = row.Status.MtimeNs;
                parameters["$ctime"].Value = row.Status.CtimeNs;
                parameters["$mode"].Value = (long)row.Status.Mode;
                parameters["$uid"].Value = (long)row.Status.Uid;
                parameters["$gid"].Value = (long)row.Status.Gid;
                parameters["$digest"].Value = row.Content.ToString();
                await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
        }
    }

    private ConcurrentDictionary<string, (FileStatus Status, Digest Content)> Load()
    {
        using var db = _state.OpenDatabase();
        using (var create = db.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE IF NOT EXISTS context_stat_cache (
                    root TEXT NOT NULL,
                    path TEXT NOT NULL,
                    inode INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    ctime_ns INTEGER NOT NULL,
                    mode INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    digest TEXT NOT NULL,
                    PRIMARY KEY (root, path)) WITHOUT ROWID
                """;
            create.ExecuteNonQuery();
        }

        var known = new ConcurrentDictionary<string, (FileStatus, Digest)>(StringComparer.Ordinal);
        using var select = db.CreateCommand();
        select.CommandText = "SELECT path, inode, size, mtime_ns, ctime_ns, mode, uid, gid, digest FROM context_stat_cache WHERE root = $root";
        select.Parameters.AddWithValue("$root", _root);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            // Only regular files are cached, so the type is implied.
            var status = new FileStatus(
                EntryType.File,
                Mode: (uint)reader.GetInt64(5),
                Uid: (uint)reader.GetInt64(6),
                Gid: (uint)reader.GetInt64(7),
                Size: reader.GetInt64(2),
                Inode: unchecked((ulong)reader.GetInt64(1)),
                MtimeNs: reader.GetInt64(3),
                CtimeNs: reader.GetInt64(4));
            if (Digest.TryParse(reader.GetString(8), out var content)) known[reader.GetString(0)] = (status, content);
        }
        return known;
    }
}
