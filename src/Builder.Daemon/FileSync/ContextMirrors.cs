using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Builder.Daemon.FileSync;

/// <summary>All context mirrors of the daemon, one directory each under <c>ROOT/contexts/</c>.</summary>
public sealed class ContextMirrors(string contextsDirectory, string tempDirectory)
{
    private readonly ConcurrentDictionary<string, ContextMirror> _mirrors = new(StringComparer.Ordinal);

    public string Directory => contextsDirectory;

    /// <summary>The mirror of a client's key and local source name (the key alone names a client directory, the name keeps two roles of one directory apart).</summary>
    public ContextMirror For(string contextKey, string name)
    {
        if (contextKey.Length is 0 or > 256) throw new InvalidDataException("invalid context key");
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{contextKey}\0{name}")))[..32];
        return _mirrors.GetOrAdd(id, _ => new ContextMirror(Path.Join(contextsDirectory, id), tempDirectory));
    }

    /// <summary>Every mirror on disk, with the in-memory state of those used since start.</summary>
    public IEnumerable<(string Id, string Directory, ContextMirror? Mirror)> List()
    {
        if (!System.IO.Directory.Exists(contextsDirectory)) yield break;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(contextsDirectory))
        {
            var id = Path.GetFileName(dir);
            yield return (id, dir, _mirrors.GetValueOrDefault(id));
        }
    }
}

/// <summary>
/// The local sources each client session has synced: session id → name → mirror directory.
/// A session's entries live as long as its Sync streams.
/// </summary>
public sealed class Sessions
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _sessions = new(StringComparer.Ordinal);

    public void Add(string session, string name, string directory) =>
        _sessions.GetOrAdd(session, _ => new(StringComparer.Ordinal))[name] = directory;

    public void Remove(string session, string name)
    {
        if (_sessions.TryGetValue(session, out var dirs))
        {
            dirs.TryRemove(name, out _);
            if (dirs.IsEmpty) _sessions.TryRemove(new(session, dirs));
        }
    }

    public IReadOnlyDictionary<string, string> DirectoriesOf(string session) =>
        _sessions.TryGetValue(session, out var dirs) ? new Dictionary<string, string>(dirs) : new Dictionary<string, string>();
}
