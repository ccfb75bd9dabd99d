using Builder.Core.Graph;

namespace Builder.Core.Solver;

/// <summary>
/// One run of one op (its inputs, the op itself, storing the result) that any number of
/// concurrent solves wait for — two builds of the same Dockerfile run its RUN once.
/// <para>
/// Cancellation: the run has its own token, not any solve's. Each wait counts as a reference;
/// when the last waiter stops waiting (its solve was cancelled or failed elsewhere) the run is
/// abandoned and its token cancelled. So cancelling one build never cancels work another build
/// still waits for, and work nobody waits for stops. An abandoned run is never joined again: a
/// later solve starts a fresh one.
/// </para>
/// <para>
/// Progress: the solves waiting for the run are its subscribers; Started/Completed/Failed go to
/// each of them (a late joiner is told the run had started). The op itself runs with the session
/// of the solve that started it, so its logs go to that session.
/// </para>
/// </summary>
internal sealed class SharedExecution
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _abandoned = new();
    private readonly TaskCompletionSource<OpOutput> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<SolveRun, int> _waitsBySolve = [];
    private DateTimeOffset? _startedAt;
    private VertexCompleted? _completed;
    private bool _isAbandoned;

    public SharedExecution(Vertex vertex, Digest key, SolveRun starter)
    {
        Vertex = vertex;
        Key = key;
        Starter = starter;
    }

    public Vertex Vertex { get; }
    public Digest Key { get; }

    /// <summary>The solve whose session and keys the op runs with.</summary>
    public SolveRun Starter { get; }

    /// <summary>
    /// Adds a waiter from <paramref name="solve"/>; false when the run was already abandoned
    /// (its token is cancelled, so it can no longer produce a result).
    /// </summary>
    public bool TryJoin(SolveRun solve)
    {
        lock (_gate)
        {
            if (_isAbandoned) return false;
            _waitsBySolve.TryGetValue(solve, out var waits);
            _waitsBySolve[solve] = waits + 1;
            if (waits == 0) TellLateJoiner(solve);
            return true;
        }
    }

    /// <summary>Runs <paramref name="body"/> in the background under the run's own token; <paramref name="finished"/> runs before waiters resume.</summary>
    public void Start(Func<SharedExecution, CancellationToken, Task<OpOutput>> body, Action<SharedExecution> finished)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                var output = await body(this, _abandoned.Token).ConfigureAwait(false);
                finished(this);
                _completion.TrySetResult(output);
            }
            catch (OperationCanceledException) when (_abandoned.IsCancellationRequested)
            {
                finished(this);
                _completion.TrySetCanceled(_abandoned.Token);
            }
            catch (Exception e)
            {
                finished(this);
                _completion.TrySetException(e);
            }
        });
    }

    /// <summary>
    /// Waits for the result on behalf of <paramref name="solve"/>. If this was the last waiter
    /// and it gives up, the run is cancelled and this waits until it has stopped, so no op
    /// outlives the build that abandoned it.
    /// </summary>
    public async Task<OpOutput> WaitAsync(SolveRun solve, CancellationToken ct)
    {
        try
        {
            return await _completion.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            if (Leave(solve))
            {
                await _abandoned.CancelAsync().ConfigureAwait(false);
                await ((Task)_completion.Task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>A solve joining a run already under way still sees it start (and finish).</summary>
    private void TellLateJoiner(SolveRun solve)
    {
        if (_startedAt is { } startedAt) solve.Report(new VertexStarted(Vertex, startedAt));
        if (_completed is { } completed) solve.Report(completed);
    }

    public void ReportStarted(DateTimeOffset now)
    {
        lock (_gate)
        {
            _startedAt = now;
            foreach (var solve in _waitsBySolve.Keys) solve.Report(new VertexStarted(Vertex, now));
        }
    }

    /// <summary>Hands the result to every waiting solve, then tells them it completed.</summary>
    public void ReportCompleted(OpOutput output, DateTimeOffset now, TimeSpan duration)
    {
        lock (_gate)
        {
            _completed = new VertexCompleted(Vertex, now, duration);
            foreach (var solve in _waitsBySolve.Keys)
            {
                solve.Results.TryAdd(Key, output);
                solve.Report(_completed);
            }
        }
    }

    public void ReportFailed(DateTimeOffset now, string error)
    {
        lock (_gate)
        {
            foreach (var solve in _waitsBySolve.Keys) solve.Report(new VertexFailed(Vertex, now, error));
        }
    }

    /// <summary>Drops one wait of <paramref name="solve"/>; true when that abandons an unfinished run.</summary>
    private bool Leave(SolveRun solve)
    {
        lock (_gate)
        {
            var waits = _waitsBySolve[solve] - 1;
            if (waits == 0) _waitsBySolve.Remove(solve);
            else _waitsBySolve[solve] = waits;

            if (_waitsBySolve.Count > 0 || _completion.Task.IsCompleted || _isAbandoned) return false;
            // Marked under the lock so no new waiter joins a run about to be cancelled; the
            // cancellation itself runs callbacks, so it happens outside the lock.
            _isAbandoned = true;
            return true;
        }
    }
}
