using Builder.Core.Solver;
using Builder.Daemon.Control;
using Google.Protobuf;

namespace Builder.Cli.Progress;

/// <summary>
/// <c>--progress rawjson</c>: one API status event (control.proto's SolveStatus) per line, as
/// JSON, for CI tools — the same events whether the daemon or the embedded engine builds.
/// </summary>
public sealed class RawJsonProgress(TextWriter output) : IProgressDisplay
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private readonly Lock _lock = new();

    public void Report(ProgressEvent progress) => Write(Formatter.Format(StatusEvents.From(progress)));

    public void Message(string line) => Write(Formatter.Format(StatusEvents.Message(line)));

    public void Warning(string text) => Write(Formatter.Format(StatusEvents.Warning(text)));

    public void Complete() { }

    private void Write(string json)
    {
        lock (_lock) { output.WriteLine(json); output.Flush(); }
    }
}
