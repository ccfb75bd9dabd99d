using System.Text;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// An instruction's text with its continuation lines joined, plus enough bookkeeping to map any
/// offset in the joined text back to the physical line and column it came from.
/// </summary>
internal sealed class LogicalLine
{
    private readonly StringBuilder _text = new();
    private readonly List<(int Offset, int Line, int Column)> _pieces = [];
    private string? _joined;

    public void Append(string piece, int line, int column)
    {
        _pieces.Add((_text.Length, line, column));
        _text.Append(piece);
        _joined = null;
    }

    public string Text => _joined ??= _text.ToString();

    /// <summary>The physical line and column of a character of <see cref="Text"/>.</summary>
    public (int Line, int Column) PositionOf(int offset)
    {
        var index = FindPiece(offset);
        var (start, line, column) = _pieces[index];
        return (line, column + (offset - start));
    }

    // Binary search for the last piece starting at or before the offset.
    private int FindPiece(int offset)
    {
        int low = 0, high = _pieces.Count - 1;
        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (_pieces[mid].Offset <= offset)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }
        return low;
    }
}
