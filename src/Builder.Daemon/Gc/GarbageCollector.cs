using System.Text.Json;
using Builder.Core.Context;
using Builder.Core.Engine;
using Builder.Core.Graph;
using Builder.Daemon.FileSync;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Builder.Daemon.Gc;

/// <summary>One record of <c>builder du</c> / of a prune.</summary>
public sealed record UsageEntry(string Id, string Kind, long Size, DateTimeOffset LastUsed, bool InUse, bool Shared, string Description);

/// <param name="All">Also remove context mirrors (the daemon's copies of client directories), like buildctl's internal records.</param>
/// <param name="KeepStorage">Keep the most recently used build cache up to this many bytes (0: keep none).</param>
/// <param name="KeepDuration">Keep build cache used within this time (null: no age limit).</param>
public sealed record PruneOptions(bool All, long KeepStorage, TimeSpan? KeepDuration);

/// <summary>
/// Disk usage and garbage collection of a state root.
/// <para>
/// What is kept, always: every blob a tagged image reaches (index → manifests → config and
/// layers), active snapshots, and everything while a build runs — a prune waits until no build
/// runs and builds wait while it prunes (<see cref="BuildGate"/>), so nothing a build is using
/// or has just written but not yet tagged can go.
/// </para>
/// <para>
/// What a prune removes: build cache records (cache key → snapshot) chosen by the options,
/// then every committed snapshot no remaining record needs (itself or as an ancestor), their
/// layer records, and every blob neither a tagged image nor a kept snapshot's layer needs.
/// Removal order is crash-safe: records before snapshots, children before parents, and a blob
/// only once nothing that is kept points at it.
/// </para>
/// </summary>
public sealed class GarbageCollector(Worker worker, ContextMirrors mirrors, BuildGate gate, GcPolicy policy, ILogger<GarbageCollector> log)
{
    private readonly Builder.Core.State.StateRoot _root = worker.Root;

    /// <summary>Held by every build and sync; a prune takes it exclusively.</summary>
    public BuildGate Gate => gate;

    /// <summary>Called when a build ends: applies the automatic keep-storage policy in the background.</summary>
    public void BuildFinished()
    {
        if (!policy.Enabled || (policy.KeepStorage <= 0 && policy.KeepDuration is null)) return;
        _ = Task.Run(async () =>
        {
            try { await AutoPruneAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) { log.LogWarning(e, "automatic gc failed"); }
        });
    }

    /// <summary>The configured policy: prune only when the cache is over its budget.</summary>
    public async Task<IReadOnlyList<UsageEntry>> AutoPruneAsync(CancellationToken ct)
    {
        var usage = await UsageAsync(ct).ConfigureAwait(false);
        var cacheSize = usage.Where(u => u.Kind == "cache").Sum(u => u.Size);
        var old = policy.KeepDuration is { } d && usage.Any(u => u.Kind == "cache" && u.LastUsed < DateTimeOffset.UtcNow - d);
        if ((policy.KeepStorage <= 0 || cacheSize <= policy.KeepStorage) && !old) return [];
        var removed = await PruneAsync(new PruneOptions(false, policy.KeepStorage, policy.KeepDuration), ct).ConfigureAwait(false);
        log.LogInformation("automatic gc: {Count} records, {Freed} freed", removed.Count, ByteSize.Format(removed.Sum(r => r.Size)));
        return removed;
    }

    public async Task<IReadOnlyList<UsageEntry>> UsageAsync(CancellationToken ct)
    {
        var state = await ReadStateAsync(ct).ConfigureAwait(false);
        var entries = new List<UsageEntry>();
        foreach (var snapshot in state.Snapshots.Values.OrderBy(s => s.Created))
        {
            var records = state.RecordsBySnapshot.GetValueOrDefault(snapshot.Id) ?? [];
            var children = state.Snapshots.Values.Count(s => s.Parent == snapshot.Id);
            entries.Add(new UsageEntry(
                snapshot.Id,
                "cache",
                DirectorySize(Path.Join(_root.SnapshotsDir, snapshot.Id)),
                LastUsed(snapshot, state),
                InUse: snapshot.Kind == "active",
                Shared: children + records.Count > 1,
                snapshot.ChainId is { } chain ? $"layer {chain}" : records.Count > 0 ? $"result of {records.Count} cache key(s)" : "parent snapshot"));
        }
        var imageBlobs = await ImageBlobsAsync(ct).ConfigureAwait(false);
        foreach (var digest in worker.Content.List())
        {
            var users = imageBlobs.GetValueOrDefault(digest.ToString());
            entries.Add(new UsageEntry(
                digest.ToString(),
                "blob",
                worker.Content.SizeOf(digest) ?? 0,
                BlobTime(digest),
                InUse: users > 0,
                Shared: users > 1,
                users > 0 ? $"used by {users} image(s)" : "layer cache"));
        }
        foreach (var (id, dir, mirror) in mirrors.List())
            entries.Add(new UsageEntry(id, "context", DirectorySize(dir), mirror?.LastUsed ?? Directory.GetLastWriteTimeUtc(dir), mirror?.InUse ?? false, false, "local source mirror"));
        return entries;
    }

    public async Task<IReadOnlyList<UsageEntry>> PruneAsync(PruneOptions options, CancellationToken ct)
    {
        using var exclusive = await gate.PruneAsync(ct).ConfigureAwait(false);
        var before = (await UsageAsync(ct).ConfigureAwait(false)).ToDictionary(u => (u.Kind, u.Id));
        var state = await ReadStateAsync(ct).ConfigureAwait(false);

        // 1. Cache records to drop: the snapshots' records, most recently used first, past the budgets.
        var now = DateTimeOffset.UtcNow;
        var ranked = state.Snapshots.Values
            .Where(s => state.RecordsBySnapshot.ContainsKey(s.Id))
            .OrderByDescending(s => LastUsed(s, state))
            .ToList();
        var keptResults = new HashSet<string>(StringComparer.Ordinal);
        long keptBytes = 0;
        foreach (var snapshot in ranked)
        {
            if (options.KeepDuration is { } keep && LastUsed(snapshot, state) < now - keep) continue;
            if (options.KeepDuration is null && options.KeepStorage <= 0) continue; // no budget: drop all
            var size = ChainSize(snapshot.Id, state, keptResults, before);
            if (options.KeepStorage > 0 && keptBytes + size > options.KeepStorage) continue;
            keptBytes += size;
            keptResults.Add(snapshot.Id);
        }

        // 2. Snapshots still needed: kept results, their ancestors, and anything active.
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in keptResults.Concat(state.Snapshots.Values.Where(s => s.Kind == "active").Select(s => s.Id)))
            for (var s = id; s is not null && live.Add(s); s = state.Snapshots.GetValueOrDefault(s)?.Parent) { }

        await using (var db = _root.OpenDatabase())
        {
            await using var tx = (SqliteTransaction)await db.BeginTransactionAsync(ct).ConfigureAwait(false);
            foreach (var (snapshotId, _) in state.RecordsBySnapshot.Where(r => !keptResults.Contains(r.Key)))
                await ExecuteAsync(db, tx, "DELETE FROM cache_records WHERE snapshot_id = $id", ct, snapshotId).ConfigureAwait(false);
            foreach (var snapshot in state.Snapshots.Values.Where(s => !live.Contains(s.Id)))
                await ExecuteAsync(db, tx, "DELETE FROM layers WHERE snapshot_id = $id", ct, snapshot.Id).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        var removed = new List<UsageEntry>();
        // Children before parents: a snapshot goes once nothing removed later still sits on it.
        foreach (var snapshot in state.Snapshots.Values.Where(s => !live.Contains(s.Id)).OrderByDescending(s => Depth(s.Id, state)))
        {
            await worker.Snapshots.RemoveAsync(snapshot.Id, ct).ConfigureAwait(false);
            removed.Add(before[("cache", snapshot.Id)]);
        }

        // 3. Blobs: kept are those of tagged images and the layer records of live snapshots.
        var keepBlobs = (await ImageBlobsAsync(ct).ConfigureAwait(false)).Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var (snapshotId, digests) in await LayerBlobsAsync(ct).ConfigureAwait(false))
            if (live.Contains(snapshotId) && (options.KeepStorage > 0 || options.KeepDuration is not null))
                keepBlobs.UnionWith(digests);
        foreach (var digest in worker.Content.List().ToList())
        {
            if (keepBlobs.Contains(digest.ToString())) continue;
            await worker.Content.DeleteAsync(digest, ct).ConfigureAwait(false);
            removed.Add(before.GetValueOrDefault(("blob", digest.ToString())) ?? new UsageEntry(digest.ToString(), "blob", 0, now, false, false, ""));
        }

        // 4. --all: context mirrors no session holds.
        if (options.All)
            foreach (var (id, dir, mirror) in mirrors.List())
            {
                if (mirror?.InUse == true) continue;
                if (mirror is not null) mirror.Delete();
                else Directory.Delete(dir, recursive: true);
                removed.Add(before[("context", id)]);
            }
        return removed;
    }

    private long ChainSize(string id, GcState state, HashSet<string> alreadyKept, Dictionary<(string, string), UsageEntry> usage)
    {
        long size = 0;
        for (var s = id; s is not null && !alreadyKept.Contains(s); s = state.Snapshots.GetValueOrDefault(s)?.Parent)
            size += usage.GetValueOrDefault(("cache", s))?.Size ?? 0;
        return size;
    }

    private static int Depth(string id, GcState state)
    {
        var depth = 0;
        for (var s = state.Snapshots.GetValueOrDefault(id)?.Parent; s is not null; s = state.Snapshots.GetValueOrDefault(s)?.Parent) depth++;
        return depth;
    }

    private static DateTimeOffset LastUsed(SnapshotRow snapshot, GcState state) =>
        state.RecordsBySnapshot.GetValueOrDefault(snapshot.Id) is { Count: > 0 } records
            ? DateTimeOffset.FromUnixTimeMilliseconds(records.Max(r => r.LastUsed))
            : snapshot.Created;

    private DateTimeOffset BlobTime(Digest digest)
    {
        try { return File.GetLastWriteTimeUtc(Path.Join(_root.ContentDir, "blobs", digest.Algorithm, digest.Hex)); }
        catch (IOException) { return DateTimeOffset.UnixEpoch; }
    }

    /// <summary>Blobs reachable from the image store's names, with how many names reach each.</summary>
    private async Task<Dictionary<string, int>> ImageBlobsAsync(CancellationToken ct)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var image in await worker.Images.ListAsync(ct).ConfigureAwait(false))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            await WalkAsync(image.Target.Digest, seen, ct).ConfigureAwait(false);
            foreach (var digest in seen) counts[digest] = counts.GetValueOrDefault(digest) + 1;
        }
        return counts;

        async Task WalkAsync(Digest digest, HashSet<string> seen, CancellationToken token)
        {
            if (!seen.Add(digest.ToString()) || !worker.Content.Exists(digest)) return;
            if ((worker.Content.SizeOf(digest) ?? 0) > 4 << 20) return; // a layer, not a manifest
            JsonDocument json;
            try { json = JsonDocument.Parse(await worker.Content.ReadAllBytesAsync(digest, token).ConfigureAwait(false)); }
            catch (JsonException) { return; }
            using (json)
            {
                if (json.RootElement.ValueKind != JsonValueKind.Object) return;
                var children = new List<Digest>();
                if (json.RootElement.TryGetProperty("config", out var config) && config.TryGetProperty("digest", out var c)) children.Add(Digest.Parse(c.GetString()!));
                foreach (var list in new[] { "layers", "manifests" })
                    if (json.RootElement.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
                        foreach (var item in items.EnumerateArray())
                            if (item.TryGetProperty("digest", out var d)) children.Add(Digest.Parse(d.GetString()!));
                foreach (var child in children) await WalkAsync(child, seen, token).ConfigureAwait(false);
            }
        }
    }

    private async Task<Dictionary<string, List<string>>> LayerBlobsAsync(CancellationToken ct)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using var db = _root.OpenDatabase();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT snapshot_id, digest FROM layers";
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (!result.TryGetValue(reader.GetString(0), out var list)) result[reader.GetString(0)] = list = [];
            list.Add(reader.GetString(1));
        }
        return result;
    }

    private sealed record SnapshotRow(string Id, string? Parent, string Kind, string? ChainId, DateTimeOffset Created);

    private sealed record CacheRow(string Key, string SnapshotId, long LastUsed);

    private sealed record GcState(Dictionary<string, SnapshotRow> Snapshots, Dictionary<string, List<CacheRow>> RecordsBySnapshot);

    private async Task<GcState> ReadStateAsync(CancellationToken ct)
    {
        var snapshots = new Dictionary<string, SnapshotRow>(StringComparer.Ordinal);
        var records = new Dictionary<string, List<CacheRow>>(StringComparer.Ordinal);
        await using var db = _root.OpenDatabase();
        await using (var command = db.CreateCommand())
        {
            command.CommandText = "SELECT id, parent, kind, chain_id, created FROM snapshots";
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
                snapshots[reader.GetString(0)] = new SnapshotRow(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), CreatedTime(reader.GetValue(4)));
        }
        await using (var command = db.CreateCommand())
        {
            command.CommandText = "SELECT key, snapshot_id, last_used FROM cache_records";
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var row = new CacheRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2));
                // A record whose snapshot is gone is dead already; the solver drops it on lookup.
                if (!snapshots.ContainsKey(row.SnapshotId)) continue;
                if (!records.TryGetValue(row.SnapshotId, out var list)) records[row.SnapshotId] = list = [];
                list.Add(row);
            }
        }
        return new GcState(snapshots, records);
    }

    private static DateTimeOffset CreatedTime(object value) => value is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;

    private static async Task ExecuteAsync(SqliteConnection db, SqliteTransaction tx, string sql, CancellationToken ct, string id)
    {
        await using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Bytes of the files under a directory (lstat sizes, links not followed).</summary>
    public static long DirectorySize(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        long size = 0;
        foreach (var entry in new ContextWalker(dir, IncludeEverything.Instance).Walk())
            if (entry.Type == EntryType.File) size += entry.Status.Size;
        return size;
    }
}
