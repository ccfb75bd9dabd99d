using System.Text;

namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// Reads a string one Unicode scalar at a time, so that multi-byte characters (한국어, emoji) are
/// never split. Returns <see cref="End"/> past the last character.
/// </summary>
internal sealed class RuneScanner(string text)
{
    public const int End = -1;

    private readonly Rune[] _runes = text.EnumerateRunes().ToArray();
    private int _position;

    public int Peek() => _position < _runes.Length ? _runes[_position].Value : End;

    public int Next() => _position < _runes.Length ? _runes[_position++].Value : End;
}
