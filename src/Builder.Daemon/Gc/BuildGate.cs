namespace Builder.Daemon.Gc;

/// <summary>
/// Builds and prunes exclude each other: any number of builds at once, or one prune. A prune
/// waits for running builds to end and holds new ones back until it is done, so it never
/// removes a snapshot or blob a build is using or has written but not yet tagged.
/// </summary>
public sealed class BuildGate
{
    private readonly SemaphoreSlim _prune = new(1, 1);
    private readonly object _gate = new();
    private int _builds;
    private TaskCompletionSource? _idle;

    public async Task<IDisposable> BuildAsync(CancellationToken ct)
    {
        // Passing through the prune semaphore means no prune is running or waiting ahead of us.
        await _prune.WaitAsync(ct).ConfigureAwait(false);
        lock (_gate) _builds++;
        _prune.Release();
        return new Releaser(() =>
        {
            lock (_gate)
            {
                if (--_builds == 0 && _idle is { } idle) { _idle = null; idle.TrySetResult(); }
            }
        });
    }

    public async Task<IDisposable> PruneAsync(CancellationToken ct)
    {
        await _prune.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Task wait;
            lock (_gate)
            {
                if (_builds == 0) return new Releaser(() => _prune.Release());
                _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _idle.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
            return new Releaser(() => _prune.Release());
        }
        catch
        {
            _prune.Release();
            throw;
        }
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) release();
        }
    }
}
