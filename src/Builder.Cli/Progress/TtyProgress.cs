using System.Text;
using Builder.Core.Graph;
using Builder.Core.Solver;

namespace Builder.Cli.Progress;

/// <summary>
/// A live view for terminals: one line per step with its state and time, and the last few log
/// lines under each running step, redrawn in place ten times a second. Finished steps stay as
/// one line each, so the final screen reads like a summary of the build.
/// </summary>
public sealed class TtyProgress : IProgressDisplay, IDisposable
{
    private const int LogLinesShown = 6;
    private readonly TextWriter _output;
    private readonly Lock _lock = new();
    private readonly List<Step> _steps = [];
    private readonly Dictionary<Digest, Step> _byDigest = [];
    private readonly List<string> _messages = [];
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private readonly Timer _timer;
    private int _linesDrawn;

    public TtyProgress(TextWriter output)
    {
        _output = output;
        _timer = new Timer(_ => Redraw(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public void Report(ProgressEvent progress)
    {
        lock (_lock)
        {
            var step = StepOf(progress.Vertex);
            switch (progress)
            {
                case VertexStarted started: step.Started = started.Time; break;
                case VertexCached: step.State = "CACHED"; break;
                case VertexLog log: step.AddLog(Encoding.UTF8.GetString(log.Data.Span)); break;
                case VertexCompleted done: step.State = "DONE"; step.Duration = done.Duration; break;
                case VertexFailed failed: step.State = "ERROR"; step.Error = failed.Error; step.Duration = failed.Time - (step.Started ?? failed.Time); break;
            }
        }
    }

    public void Message(string line)
    {
        lock (_lock) _messages.Add(line);
    }

    public void Warning(string text) => Message($"WARNING: {text}");

    public void Complete()
    {
        _timer.Dispose();
        Redraw();
    }

    public void Dispose() => _timer.Dispose();

    private Step StepOf(Vertex vertex)
    {
        if (_byDigest.TryGetValue(vertex.Digest, out var step)) return step;
        step = new Step(_steps.Count + 1, vertex.Name);
        _steps.Add(step);
        _byDigest[vertex.Digest] = step;
        return step;
    }

    private void Redraw()
    {
        lock (_lock)
        {
            var screen = new StringBuilder();
            // Move up over what we drew last time and clear it, then draw everything again.
            if (_linesDrawn > 0) screen.Append($"\e[{_linesDrawn}F\e[J");
            var lines = Render();
            foreach (var line in lines) screen.Append(line).Append('\n');
            _linesDrawn = lines.Count;
            _output.Write(screen.ToString());
            _output.Flush();
        }
    }

    private List<string> Render()
    {
        var width = Math.Max(40, SafeWindowWidth() - 1);
        var now = DateTimeOffset.UtcNow;
        var lines = new List<string> { Clip($"[+] Building {(now - _start).TotalSeconds:0.0}s ({_steps.Count(s => s.State is not null)}/{_steps.Count} finished)", width) };
        foreach (var step in _steps)
        {
            var time = step.Duration ?? (step.Started is { } s ? now - s : TimeSpan.Zero);
            var state = step.State switch { "CACHED" => "CACHED", null => $"{time.TotalSeconds:0.0}s", _ => $"{step.State} {time.TotalSeconds:0.0}s" };
            lines.Add(Clip($" => {step.Name}", width - state.Length - 1).PadRight(width - state.Length) + state);
            if (step.State is null or "ERROR")
                lines.AddRange(step.LastLogs(LogLinesShown).Select(l => Clip($" => => # {l}", width)));
            if (step.Error is not null) lines.Add(Clip($" => ERROR: {step.Error}", width));
        }
        lines.AddRange(_messages.Select(m => Clip($" => {m}", width)));
        return lines;
    }

    private static int SafeWindowWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; }
        catch (IOException) { return 120; }
    }

    private static string Clip(string text, int width) => text.Length <= width ? text : text[..Math.Max(0, width)];

    private sealed class Step(int number, string name)
    {
        private readonly Queue<string> _logs = new();
        private string _partial = "";

        public int Number { get; } = number;
        public string Name { get; } = name;
        public string? State { get; set; }
        public string? Error { get; set; }
        public DateTimeOffset? Started { get; set; }
        public TimeSpan? Duration { get; set; }

        public void AddLog(string text)
        {
            var parts = (_partial + text).Split('\n');
            _partial = parts[^1];
            foreach (var line in parts[..^1])
            {
                _logs.Enqueue(line.TrimEnd('\r'));
                if (_logs.Count > LogLinesShown) _logs.Dequeue();
            }
        }

        public IEnumerable<string> LastLogs(int count) =>
            _partial.Length > 0 ? _logs.Append(_partial).TakeLast(count) : _logs.TakeLast(count);
    }
}
