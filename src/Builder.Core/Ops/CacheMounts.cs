using System.Security.Cryptography;
using System.Text;

namespace Builder.Core.Ops;

/// <summary>
/// The persistent directories behind <c>RUN --mount=type=cache</c>, under the state root's
/// <c>cachemounts/</c>. They live outside every snapshot, so nothing in them reaches a layer or a
/// cache key, and they survive builds (and <c>--no-cache</c>) until pruned.
/// <para>
/// A cache is named by the user's id, which is untrusted text (<c>id=../../etc</c>): its directory
/// is the SHA-256 of the id (and of what seeds it), never a path built from it, so no id can name a
/// place outside the cache root. Each cache has one main directory (<c>0</c>) and, for
/// <c>sharing=private</c>, extra ones (<c>1</c>, <c>2</c> …) handed to concurrent users.
/// </para>
/// One instance serves every build of an engine; the state-root lock keeps other processes out.
/// </summary>
public sealed class CacheMounts(string root)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DirectoryState> _directories = new(StringComparer.Ordinal);

    public string Root { get; } = root;

    /// <summary>
    /// Takes a cache directory for one step, waiting as <paramref name="sharing"/> requires:
    /// "shared" joins other shared users, "locked" waits until it is alone, "private" takes the first
    /// directory of the cache nobody uses. A directory is created on first use by
    /// <paramref name="initialize"/> (given an empty directory to fill and chown) and published whole.
    /// </summary>
    /// <param name="seed">what else identifies the cache (the key of its <c>from</c> input, its owner and mode); "" for none.</param>
    public async Task<CacheLease> AcquireAsync(string id, string seed, string sharing, Func<string, CancellationToken, Task> initialize, CancellationToken ct)
    {
        var cacheDir = Path.Combine(Root, NameOf(id, seed));
        var (path, state, exclusive) = sharing switch
        {
            "shared" => await WaitForAsync(Path.Combine(cacheDir, "0"), exclusive: false, ct).ConfigureAwait(false),
            "locked" => await WaitForAsync(Path.Combine(cacheDir, "0"), exclusive: true, ct).ConfigureAwait(false),
            "private" => TakeFreeDirectory(cacheDir),
            _ => throw new ArgumentException($"unknown cache sharing mode \"{sharing}\"", nameof(sharing)),
        };
        var lease = new CacheLease(path, () => Release(state, exclusive));
        try
        {
            await state.Initialization.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (!Directory.Exists(path)) await CreateAsync(path, initialize, ct).ConfigureAwait(false);
            }
            finally { state.Initialization.Release(); }
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>The directory name of a cache: not derived from the id's characters, so it cannot leave the root.</summary>
    internal static string NameOf(string id, string seed) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed.Length == 0 ? id : $"{id}\n{seed}")));

    private static async Task CreateAsync(string path, Func<string, CancellationToken, Task> initialize, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var staging = path + ".new";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // a crash mid-way left it
        Directory.CreateDirectory(staging);
        await initialize(staging, ct).ConfigureAwait(false);
        Directory.Move(staging, path);
    }

    private async Task<(string, DirectoryState, bool)> WaitForAsync(string path, bool exclusive, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                var state = StateOf(path);
                if (!state.Exclusive && (!exclusive || state.SharedUsers == 0))
                {
                    if (exclusive) state.Exclusive = true;
                    else state.SharedUsers++;
                    return (path, state, exclusive);
                }
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                state.Waiters.Add(waiter);
                wait = waiter.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private (string, DirectoryState, bool) TakeFreeDirectory(string cacheDir)
    {
        lock (_lock)
        {
            for (var n = 0; ; n++)
            {
                var path = Path.Combine(cacheDir, n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var state = StateOf(path);
                if (state.Exclusive || state.SharedUsers > 0) continue;
                state.Exclusive = true;
                return (path, state, true);
            }
        }
    }

    private void Release(DirectoryState state, bool exclusive)
    {
        List<TaskCompletionSource> waiters;
        lock (_lock)
        {
            if (exclusive) state.Exclusive = false;
            else state.SharedUsers--;
            waiters = [.. state.Waiters];
            state.Waiters.Clear();
        }
        foreach (var waiter in waiters) waiter.TrySetResult();
    }

    private DirectoryState StateOf(string path)
    {
        if (!_directories.TryGetValue(path, out var state))
            _directories[path] = state = new DirectoryState();
        return state;
    }

    private sealed class DirectoryState
    {
        public int SharedUsers;
        public bool Exclusive;
        public readonly List<TaskCompletionSource> Waiters = [];
        public readonly SemaphoreSlim Initialization = new(1, 1);
    }
}

/// <summary>A cache directory held by one step; disposing lets the next user in.</summary>
public sealed class CacheLease(string path, Action release) : IDisposable
{
    private int _released;

    public string Path { get; } = path;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) release();
    }
}
