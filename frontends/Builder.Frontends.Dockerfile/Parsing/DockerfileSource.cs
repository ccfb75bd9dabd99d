namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>One physical line: its text without the line terminator, and the terminator itself.</summary>
internal readonly record struct PhysicalLine(string Text, string Terminator)
{
    /// <summary>The line as it was in the file; heredoc bodies keep their line endings.</summary>
    public string Raw => Text + Terminator;
}

/// <summary>
/// The text of a Dockerfile split into physical lines. Knows the file name, so it is also where
/// errors that point at a line are made.
/// </summary>
public sealed class DockerfileSource
{
    private const char ByteOrderMark = '\uFEFF';
    private readonly List<PhysicalLine> _lines;

    public DockerfileSource(string fileName, string text)
    {
        FileName = fileName;
        _lines = SplitLines(text);
    }

    public string FileName { get; }

    public int LineCount => _lines.Count;

    /// <summary>The text of a 1-based line without its terminator; empty outside the file.</summary>
    public string LineText(int line) => line >= 1 && line <= _lines.Count ? _lines[line - 1].Text : "";

    internal PhysicalLine this[int line] => _lines[line - 1];

    public Location LocationOf(int line, int column) => new(FileName, line, column);

    public DockerfileException Error(string message, int line, int column = 1) =>
        new(message, LocationOf(line, column), line >= 1 && line <= _lines.Count ? LineText(line) : null);

    // Lines end at '\n'; a '\r' before it (or several, as Go's TrimRight does) belongs to the terminator.
    // A byte order mark at the very start is not part of the first line.
    private static List<PhysicalLine> SplitLines(string text)
    {
        var lines = new List<PhysicalLine>();
        var start = text.Length > 0 && text[0] == ByteOrderMark ? 1 : 0;
        while (start < text.Length)
        {
            var newline = text.IndexOf('\n', start);
            var end = newline < 0 ? text.Length : newline + 1;
            var contentEnd = end;
            while (contentEnd > start && (text[contentEnd - 1] == '\n' || text[contentEnd - 1] == '\r'))
            {
                contentEnd--;
            }
            lines.Add(new PhysicalLine(text[start..contentEnd], text[contentEnd..end]));
            start = end;
        }
        return lines;
    }
}
