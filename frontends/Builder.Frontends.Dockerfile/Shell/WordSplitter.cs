using System.Text;

namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// Collects expanded text into words the way BuildKit's ProcessWords does: unquoted whitespace
/// (including whitespace that came out of a $variable) separates words, while quoted and escaped
/// text is added "raw" and never splits. Empty words are dropped, even <c>""</c>.
/// </summary>
internal sealed class WordSplitter
{
    private readonly StringBuilder _current = new();
    private readonly List<string> _words = [];
    private bool _inWord;

    public void AddChar(int ch)
    {
        if (!IsSpace(ch))
        {
            AddRawChar(ch);
        }
        else if (_inWord && _current.Length != 0)
        {
            _words.Add(_current.ToString());
            _current.Clear();
            _inWord = false;
        }
    }

    public void AddRawChar(int ch)
    {
        _current.Append(char.ConvertFromUtf32(ch));
        _inWord = true;
    }

    public void AddString(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            AddChar(rune.Value);
    }

    public void AddRawString(string text)
    {
        _current.Append(text);
        _inWord = true;
    }

    public List<string> Finish()
    {
        if (_current.Length > 0)
        {
            _words.Add(_current.ToString());
            _current.Clear();
            _inWord = false;
        }
        return _words;
    }

    private static bool IsSpace(int ch) => Rune.IsWhiteSpace(new Rune(ch));
}
