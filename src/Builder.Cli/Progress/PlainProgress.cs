using System.Text;
using Builder.Core.Graph;
using Builder.Core.Solver;

namespace Builder.Cli.Progress;

/// <summary>
/// BuildKit's plain progress: every vertex gets a number the first time it shows up, and each
/// line says which vertex it is about (<c>#3 [2/4] RUN make</c>, <c>#3 0.512 log line</c>,
/// <c>#3 DONE 1.2s</c>). Lines of different vertices interleave, so each carries its number.
/// </summary>
public sealed class PlainProgress(TextWriter output) : IProgressSink, IProgressDisplay
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Digest, VertexState> _vertices = [];
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;

    public void Report(ProgressEvent progress)
    {
        lock (_lock)
        {
            var state = StateOf(progress.Vertex);
            switch (progress)
            {
                case VertexStarted started:
                    state.Started = started.Time;
                    break;
                case VertexCached:
                    output.WriteLine($"#{state.Number} CACHED");
                    break;
                case VertexLog log:
                    WriteLog(state, log);
                    break;
                case VertexCompleted done:
                    FlushPartialLine(state, progress.Time);
                    output.WriteLine($"#{state.Number} DONE {done.Duration.TotalSeconds:0.0}s");
                    break;
                case VertexFailed failed:
                    FlushPartialLine(state, progress.Time);
                    output.WriteLine($"#{state.Number} ERROR: {failed.Error}");
                    break;
            }
            output.Flush();
        }
    }

    public void Message(string line)
    {
        lock (_lock) { output.WriteLine(line); output.Flush(); }
    }

    public void Warning(string text) => Message($"WARNING: {text}");

    public void Complete() { }

    private VertexState StateOf(Vertex vertex)
    {
        if (_vertices.TryGetValue(vertex.Digest, out var state)) return state;
        state = new VertexState(_vertices.Count + 1);
        _vertices[vertex.Digest] = state;
        output.WriteLine($"#{state.Number} {vertex.Name}");
        return state;
    }

    /// <summary>Output arrives in arbitrary chunks; lines are printed whole, stamped with seconds since the step started.</summary>
    private void WriteLog(VertexState state, VertexLog log)
    {
        state.Pending.Append(Encoding.UTF8.GetString(log.Data.Span));
        var text = state.Pending.ToString();
        var lastNewline = text.LastIndexOf('\n');
        if (lastNewline < 0) return;
        foreach (var line in text[..lastNewline].Split('\n'))
            output.WriteLine($"#{state.Number} {Elapsed(state, log.Time):0.000} {line.TrimEnd('\r')}");
        state.Pending.Clear().Append(text[(lastNewline + 1)..]);
    }

    private void FlushPartialLine(VertexState state, DateTimeOffset time)
    {
        if (state.Pending.Length == 0) return;
        output.WriteLine($"#{state.Number} {Elapsed(state, time):0.000} {state.Pending}");
        state.Pending.Clear();
    }

    private double Elapsed(VertexState state, DateTimeOffset time) => (time - (state.Started ?? _start)).TotalSeconds;

    private sealed class VertexState(int number)
    {
        public int Number { get; } = number;
        public DateTimeOffset? Started { get; set; }
        public StringBuilder Pending { get; } = new();
    }
}
