using System.Collections.Concurrent;
using Builder.Core.Solver;

namespace Builder.Core.Tests.Solver;

/// <summary>Keeps every progress event and lets a test wait for one to arrive.</summary>
public sealed class RecordingProgress : IProgressSink
{
    private readonly ConcurrentQueue<ProgressEvent> _events = new();
    private readonly List<(Func<ProgressEvent, bool> Match, TaskCompletionSource Seen)> _waiters = [];

    public IReadOnlyList<ProgressEvent> Events => [.. _events];

    public void Report(ProgressEvent progress)
    {
        _events.Enqueue(progress);
        lock (_waiters)
        {
            foreach (var (match, seen) in _waiters)
                if (match(progress)) seen.TrySetResult();
        }
    }

    /// <summary>Completes when an event matching <paramref name="match"/> has been reported.</summary>
    public Task WaitForAsync(Func<ProgressEvent, bool> match)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((match, seen));
            if (_events.Any(match)) seen.TrySetResult();
        }
        return seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Event kind and vertex name, e.g. "Started b", in report order.</summary>
    public IReadOnlyList<string> Summary() =>
        [.. _events.Select(e => $"{e.GetType().Name.Replace("Vertex", "")} {e.Vertex.Name}")];

    public IReadOnlyList<string> NamesOf<TEvent>() where TEvent : ProgressEvent =>
        [.. _events.OfType<TEvent>().Select(e => e.Vertex.Name).Order(StringComparer.Ordinal)];
}
