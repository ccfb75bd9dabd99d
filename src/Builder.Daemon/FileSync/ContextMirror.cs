using Builder.Api.V1;
using Builder.Core.Context;
using Builder.Core.Filesystem;
using FileStatus = Builder.Core.Context.FileStatus;

namespace Builder.Daemon.FileSync;

/// <summary>
/// The daemon's persistent copy of one client directory (one context key and local source name).
/// A mirror file carries the client's size, mtime, mode and owner, so comparing the client's
/// list with an lstat of the mirror tells which files must be sent — the mirror describes itself
/// and needs no side database (files are published by rename, so a crash never leaves a torn
/// file that looks current).
/// <para>
/// Builds read the mirror in place. Syncs are serialised per mirror; a sync that changes
/// nothing only joins the readers, one that changes something waits until no build reads it.
/// </para>
/// </summary>
public sealed class ContextMirror(string directory, string tempDirectory)
{
    private readonly SemaphoreSlim _syncs = new(1, 1);
    private readonly object _gate = new();
    private int _readers;
    private TaskCompletionSource? _drained;

    // The list the directory was last brought up to. The daemon is the mirror's only writer, so
    // while this is set the directory matches it: a client sending the very same list again (an
    // unchanged context, the common rebuild) needs no walk of the mirror. Cleared before anything
    // changes the directory, and by Delete.
    private IReadOnlyList<FileEntry>? _mirrored;

    public string Directory { get; } = directory;

    public DateTimeOffset LastUsed { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>True while a session reads or updates it: prune leaves it alone.</summary>
    public bool InUse
    {
        get { lock (_gate) return _readers > 0 || _syncs.CurrentCount == 0; }
    }

    /// <summary>
    /// Brings the mirror up to <paramref name="entries"/>: removes what the client no longer
    /// has, creates directories and links, and fetches the files that differ through
    /// <paramref name="fetch"/> (called once with the wanted indices; it calls the writer it
    /// is given for each file's data). Returns a read lease: the mirror does not change until
    /// it is disposed.
    /// </summary>
    public async Task<IDisposable> SyncAsync(IReadOnlyList<FileEntry> entries, Func<IReadOnlyList<int>, FileWriter, Task> fetch, SyncStats stats, CancellationToken ct)
    {
        var byPath = Validate(entries);
        await _syncs.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_mirrored is { } last && last.SequenceEqual(entries) && System.IO.Directory.Exists(Directory))
            {
                await fetch([], new FileWriter(this, entries, [], stats)).ConfigureAwait(false);
                return StartReading(entries.Count, stats);
            }
            _mirrored = null;

            System.IO.Directory.CreateDirectory(Directory);
            var existing = new ContextWalker(Directory, IncludeEverything.Instance).Walk(ct).ToList();
            var removals = Removals(existing, byPath);
            var removed = removals.ToHashSet(StringComparer.Ordinal);
            var present = existing.Where(e => !IsUnder(e.Path, removed)).ToDictionary(e => e.Path, e => e.Status, StringComparer.Ordinal);
            var work = new List<int>();
            var wanted = new List<int>();
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                present.TryGetValue(entry.Path, out var status);
                if (IsCurrent(entry, status)) continue;
                work.Add(i);
                if (FileStatus.TypeOf(entry.Mode) == EntryType.File) wanted.Add(i);
            }

            if (removals.Count > 0 || work.Count > 0)
            {
                await WaitForNoReadersAsync(ct).ConfigureAwait(false);
                foreach (var path in removals) Remove(Path.Join(Directory, path));
                stats.Removed = removals.Count;
                foreach (var i in work)
                    if (FileStatus.TypeOf(entries[i].Mode) != EntryType.File) CreateNonFile(entries[i], present.GetValueOrDefault(entries[i].Path));
                var writer = new FileWriter(this, entries, wanted, stats);
                await fetch(wanted, writer).ConfigureAwait(false);
                writer.EnsureComplete();
            }
            else
            {
                await fetch([], new FileWriter(this, entries, [], stats)).ConfigureAwait(false);
            }
            _mirrored = entries;
            return StartReading(entries.Count, stats);
        }
        finally
        {
            _syncs.Release();
        }
    }

    /// <summary>Removes the mirror's directory (garbage collection); the next sync starts from nothing.</summary>
    public void Delete()
    {
        _mirrored = null;
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }

    private Lease StartReading(int entryCount, SyncStats stats)
    {
        stats.Entries = entryCount;
        lock (_gate) _readers++;
        LastUsed = DateTimeOffset.UtcNow;
        return new Lease(this);
    }

    /// <summary>Paths are relative, clean, unique, and every parent is a directory listed before them — nothing can lead outside the mirror.</summary>
    private static Dictionary<string, FileEntry> Validate(IReadOnlyList<FileEntry> entries)
    {
        var byPath = new Dictionary<string, FileEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var path = entry.Path;
            if (path.Length == 0 || path.Contains('\0') || path.Split('/').Any(c => c is "" or "." or ".."))
                throw new InvalidDataException($"invalid path \"{path}\" in the file list");
            var slash = path.LastIndexOf('/');
            if (slash > 0 && (!byPath.TryGetValue(path[..slash], out var parent) || FileStatus.TypeOf(parent.Mode) != EntryType.Directory))
                throw new InvalidDataException($"\"{path}\" comes before its parent directory in the file list");
            if (!byPath.TryAdd(path, entry)) throw new InvalidDataException($"\"{path}\" is listed twice");
            if (FileStatus.TypeOf(entry.Mode) == EntryType.Symlink && entry.LinkTarget.Contains('\0'))
                throw new InvalidDataException($"invalid link target of \"{path}\"");
        }
        return byPath;
    }

    /// <summary>Mirror paths the client no longer has, or has as another type; outermost only (a directory goes whole).</summary>
    private static List<string> Removals(List<ContextEntry> existing, Dictionary<string, FileEntry> byPath)
    {
        var removals = new List<string>();
        foreach (var entry in existing)
        {
            if (removals.Count > 0 && entry.Path.StartsWith(removals[^1] + "/", StringComparison.Ordinal)) continue;
            if (!byPath.TryGetValue(entry.Path, out var wanted) || FileStatus.TypeOf(wanted.Mode) != entry.Type || !IsMirrored(entry.Type))
                removals.Add(entry.Path);
        }
        return removals;
    }

    private static bool IsUnder(string path, HashSet<string> directories)
    {
        for (var p = path; ; p = p[..p.LastIndexOf('/')])
        {
            if (directories.Contains(p)) return true;
            if (!p.Contains('/')) return false;
        }
    }

    private static bool IsMirrored(EntryType type) => type is EntryType.File or EntryType.Directory or EntryType.Symlink;

    private bool IsCurrent(FileEntry entry, FileStatus? status)
    {
        var type = FileStatus.TypeOf(entry.Mode);
        if (!IsMirrored(type)) return true; // sockets, devices and fifos are never copied into a context
        if (status is null || status.Type != type || !OwnerMatches(entry, status)) return false;
        return type switch
        {
            EntryType.File => status.Size == entry.Size && status.MtimeNs == entry.MtimeNs && status.Mode == (entry.Mode & 0xFFF),
            EntryType.Directory => status.Mode == (entry.Mode & 0xFFF),
            _ => new FileInfo(Path.Join(Directory, entry.Path)).LinkTarget == entry.LinkTarget,
        };
    }

    private static bool OwnerMatches(FileEntry entry, FileStatus status) =>
        !IsRoot || (status.Uid == entry.Uid && status.Gid == entry.Gid);

    private static readonly bool IsRoot = Environment.UserName == "root";

    private void CreateNonFile(FileEntry entry, FileStatus? status)
    {
        var path = Path.Join(Directory, entry.Path);
        if (FileStatus.TypeOf(entry.Mode) == EntryType.Directory)
        {
            if (status is null) System.IO.Directory.CreateDirectory(path);
            if (IsRoot) Native.SetOwner(path, entry.Uid, entry.Gid);
            Native.SetMode(path, entry.Mode & 0xFFF);
            return;
        }
        // A symlink: made beside its place and renamed over it, never followed.
        var temp = TempPath();
        Native.CreateSymlink(entry.LinkTarget, temp);
        if (IsRoot) Native.SetOwner(temp, entry.Uid, entry.Gid);
        Rename(temp, path);
    }

    private string TempPath() => Path.Join(tempDirectory, $"sync-{Guid.NewGuid():N}");

    private static void Rename(string from, string to) => File.Move(from, to, overwrite: true);

    private static void Remove(string path)
    {
        if (FileStatus.Lstat(path) is { Type: EntryType.Directory }) System.IO.Directory.Delete(path, recursive: true);
        else File.Delete(path);
    }

    private async Task WaitForNoReadersAsync(CancellationToken ct)
    {
        Task wait;
        lock (_gate)
        {
            if (_readers == 0) return;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _drained.Task;
        }
        await wait.WaitAsync(ct).ConfigureAwait(false);
    }

    private void Release()
    {
        lock (_gate)
        {
            _readers--;
            LastUsed = DateTimeOffset.UtcNow;
            if (_readers == 0 && _drained is { } drained) { _drained = null; drained.TrySetResult(); }
        }
    }

    private sealed class Lease(ContextMirror mirror) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) mirror.Release();
        }
    }

    /// <summary>Writes the wanted files, in the order asked, each to a temp file published by rename with the client's metadata.</summary>
    public sealed class FileWriter(ContextMirror mirror, IReadOnlyList<FileEntry> entries, IReadOnlyList<int> wanted, SyncStats stats)
    {
        private int _next;
        private FileStream? _current;
        private string? _currentTemp;

        public async Task WriteAsync(FileData data, CancellationToken ct)
        {
            if (_next >= wanted.Count || data.Index != wanted[_next])
                throw new InvalidDataException($"file data for entry {data.Index} was not asked for (expected {(_next < wanted.Count ? wanted[_next] : -1)})");
            if (_current is null)
            {
                _currentTemp = mirror.TempPath();
                _current = new FileStream(Native.CreateNewFile(_currentTemp), FileAccess.Write, bufferSize: 0);
            }
            if (!data.Data.IsEmpty)
            {
                await _current.WriteAsync(data.Data.Memory, ct).ConfigureAwait(false);
                stats.BytesReceived += data.Data.Length;
            }
            if (!data.Eof) return;

            await _current.DisposeAsync().ConfigureAwait(false);
            _current = null;
            var entry = entries[(int)data.Index];
            if (IsRoot) Native.SetOwner(_currentTemp!, entry.Uid, entry.Gid);
            Native.SetMode(_currentTemp!, entry.Mode & 0xFFF);
            Native.SetTimes(_currentTemp!, Math.DivRem(entry.MtimeNs, 1_000_000_000L, out var ns) - (ns < 0 ? 1 : 0), ns < 0 ? ns + 1_000_000_000L : ns);
            Rename(_currentTemp!, Path.Join(mirror.Directory, entry.Path));
            _currentTemp = null;
            stats.FilesReceived++;
            _next++;
        }

        public void EnsureComplete()
        {
            if (_current is not null) { _current.Dispose(); File.Delete(_currentTemp!); }
            if (_next != wanted.Count) throw new InvalidDataException($"the client sent {_next} of {wanted.Count} files");
        }
    }
}

public sealed class SyncStats
{
    public long Entries { get; set; }
    public long FilesReceived { get; set; }
    public long BytesReceived { get; set; }
    public long Removed { get; set; }
}
