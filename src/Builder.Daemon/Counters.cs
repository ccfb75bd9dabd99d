using System.Collections.Concurrent;

namespace Builder.Daemon;

/// <summary>Debug counters shown by Control.Info (<c>builder ctl debug workers</c>): what crossed the socket, what ran.</summary>
public sealed class Counters
{
    public const string FilesReceived = "filesync.files_received";
    public const string BytesReceived = "filesync.bytes_received";
    public const string EntriesListed = "filesync.entries_listed";
    public const string SolvesStarted = "solves.started";
    public const string SolvesActive = "solves.active";

    private readonly ConcurrentDictionary<string, long> _values = new();

    public void Add(string name, long delta) => _values.AddOrUpdate(name, delta, (_, v) => v + delta);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_values);
}
