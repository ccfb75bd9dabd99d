using System.Text;
using Builder.Core.Solver;

namespace Builder.Build;

/// <summary>
/// Turns a failed step into what BuildKit prints: the step, the Dockerfile lines it came from
/// with the failing ones marked, and the cause on an ERROR line.
/// </summary>
public static class SolveErrorReport
{
    private const int ContextLines = 2;

    public static string Format(SolveException failure, string dockerfileText)
    {
        var text = new StringBuilder();
        text.AppendLine($" > {failure.Vertex.Name}:");
        if (failure.Vertex.Location is { } location)
        {
            var lines = dockerfileText.Split('\n');
            var first = Math.Max(1, location.Line - ContextLines);
            var endLine = Math.Max(location.Line, location.EndLine);
            var last = Math.Min(lines.Length, endLine + ContextLines);
            text.AppendLine("------");
            text.AppendLine($"{location.File}:{location.Line}");
            text.AppendLine("--------------------");
            for (var n = first; n <= last; n++)
            {
                var marker = n >= location.Line && n <= endLine ? ">>>" : "   ";
                text.AppendLine($"{n,4} | {marker} {lines[n - 1].TrimEnd('\r')}");
            }
            text.AppendLine("--------------------");
        }
        text.Append($"ERROR: failed to solve: {RootCause(failure)}");
        return text.ToString();
    }

    private static string RootCause(Exception failure)
    {
        var cause = failure;
        while (cause.InnerException is not null && cause is SolveException) cause = cause.InnerException;
        return cause.Message;
    }
}
