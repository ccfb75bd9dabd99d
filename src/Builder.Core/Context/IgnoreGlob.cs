using System.Text;

namespace Builder.Core.Context;

/// <summary>
/// One cleaned .dockerignore pattern, compiled the way moby/patternmatcher compiles it:
/// <list type="bullet">
/// <item><c>*</c> any run of characters except <c>/</c>; <c>?</c> one character except <c>/</c>;</item>
/// <item><c>[a-z]</c>, <c>[^a-z]</c> character classes and <c>\c</c> escapes (Go's filepath.Match syntax);</item>
/// <item><c>**</c> any number of directories: <c>a/**/b</c> matches <c>a/b</c> and <c>a/x/y/b</c>;
///   a trailing <c>**</c> matches anything that starts with the text before it.</item>
/// </list>
/// Like patternmatcher, a pattern that starts with <c>**</c> followed only by plain text is a suffix test
/// (<c>**.pyc</c> matches <c>a/b.pyc</c>), and one that ends in <c>**</c> after plain text is a prefix test.
/// <para>
/// patternmatcher hands escapes and brackets to Go's regexp engine, so there <c>\d</c> is a digit class and
/// <c>[*]</c> breaks; here both follow filepath.Match, which is what Docker documents and validates against:
/// <c>\d</c> is the letter d and <c>[*]</c> the star.
/// </para>
/// </summary>
internal sealed class IgnoreGlob
{
    private enum Kind
    {
        Exact,   // plain text: the path must equal it
        Prefix,  // plain text then **: the path must start with the text
        Suffix,  // ** then plain text: the path must end with the text (or be it, after "**/")
        Glob,    // anything else: matched token by token
    }

    private enum TokenKind { Literal, AnyChar, Star, AnyDirectories, AnyRest, Class }

    private sealed record Token(TokenKind Kind, int Rune = 0, CharacterClass? Class = null);

    private readonly Kind _kind;
    private readonly string _text;            // the pattern (Exact) or its plain part (Prefix, Suffix)
    private readonly Token[] _tokens;         // Glob only

    private IgnoreGlob(Kind kind, string text, Token[] tokens)
    {
        _kind = kind;
        _text = text;
        _tokens = tokens;
    }

    /// <summary>Compiles a cleaned pattern (no leading <c>!</c>).</summary>
    /// <exception cref="FormatException">The pattern is malformed (bad character class, trailing backslash).</exception>
    public static IgnoreGlob Compile(string pattern)
    {
        var tokens = new List<Token>();
        var kind = Kind.Exact;
        var runes = pattern.EnumerateRunes().Select(r => r.Value).ToArray();
        var i = 0;
        for (var turn = 0; i < runes.Length; turn++)
        {
            var ch = runes[i++];
            switch (ch)
            {
                case '*' when i < runes.Length && runes[i] == '*':
                    i++;
                    if (i < runes.Length && runes[i] == '/')
                        i++; // "**/" means the same as "**"
                    var atEnd = i == runes.Length;
                    if (atEnd)
                        kind = kind == Kind.Exact ? Kind.Prefix : Kind.Glob;
                    else
                        kind = Kind.Glob;
                    tokens.Add(new Token(atEnd ? TokenKind.AnyRest : TokenKind.AnyDirectories));
                    if (turn == 0)
                        kind = Kind.Suffix; // stays a suffix test only if the rest is plain text
                    break;
                case '*':
                    tokens.Add(new Token(TokenKind.Star));
                    kind = Kind.Glob;
                    break;
                case '?':
                    tokens.Add(new Token(TokenKind.AnyChar));
                    kind = Kind.Glob;
                    break;
                case '\\':
                    if (i == runes.Length)
                        throw new FormatException("syntax error in pattern: it ends with an escape '\\'");
                    tokens.Add(new Token(TokenKind.Literal, runes[i++]));
                    kind = Kind.Glob;
                    break;
                case '[':
                    tokens.Add(new Token(TokenKind.Class, Class: CharacterClass.Parse(runes, ref i)));
                    kind = Kind.Glob;
                    break;
                case ']':
                    // a literal, but patternmatcher stops treating the pattern as plain text
                    tokens.Add(new Token(TokenKind.Literal, ch));
                    kind = Kind.Glob;
                    break;
                default:
                    tokens.Add(new Token(TokenKind.Literal, ch));
                    break;
            }
        }

        var text = kind switch
        {
            Kind.Prefix => pattern[..^2],
            Kind.Suffix => pattern[2..],
            _ => pattern,
        };
        return new IgnoreGlob(kind, text, [.. tokens]);
    }

    /// <summary>Whether the whole of <paramref name="path"/> (cleaned, slash-separated) matches.</summary>
    public bool Matches(string path) => _kind switch
    {
        Kind.Exact => path == _text,
        Kind.Prefix => path.StartsWith(_text, StringComparison.Ordinal),
        Kind.Suffix => path.EndsWith(_text, StringComparison.Ordinal)
                       || (_text.StartsWith('/') && path == _text[1..]),
        _ => new TokenMatcher(_tokens, ToRunes(path), partial: false).Run(),
    };

    /// <summary>
    /// Whether some path that starts with <paramref name="prefix"/> could match. Used to decide whether a
    /// directory may hold something an exception re-includes; it may answer true too often, never too rarely.
    /// </summary>
    public bool CouldMatchSomethingStartingWith(string prefix) => _kind switch
    {
        Kind.Exact => _text.StartsWith(prefix, StringComparison.Ordinal),
        Kind.Prefix => _text.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(_text, StringComparison.Ordinal),
        Kind.Suffix => true,
        _ => new TokenMatcher(_tokens, ToRunes(prefix), partial: true).Run(),
    };

    private static int[] ToRunes(string text) => text.EnumerateRunes().Select(r => r.Value).ToArray();

    /// <summary>
    /// Backtracking match of the tokens against the text, anchored at both ends. With <c>partial</c>, running
    /// out of text counts as success: the text is a prefix of something the pattern could match.
    /// Dead ends are remembered, so many <c>*</c> cannot make it exponential.
    /// </summary>
    private sealed class TokenMatcher(Token[] tokens, int[] text, bool partial)
    {
        private readonly HashSet<(int Token, int Position)> _deadEnds = [];

        public bool Run() => MatchFrom(0, 0);

        private bool MatchFrom(int tokenIndex, int position)
        {
            if (partial && position == text.Length)
                return true;
            if (tokenIndex == tokens.Length)
                return position == text.Length;
            if (_deadEnds.Contains((tokenIndex, position)))
                return false;
            var matched = MatchToken(tokens[tokenIndex], tokenIndex + 1, position);
            if (!matched)
                _deadEnds.Add((tokenIndex, position));
            return matched;
        }

        private bool MatchToken(Token token, int next, int position)
        {
            var hasChar = position < text.Length;
            switch (token.Kind)
            {
                case TokenKind.Literal:
                    return hasChar && text[position] == token.Rune && MatchFrom(next, position + 1);
                case TokenKind.AnyChar:
                    return hasChar && text[position] != '/' && MatchFrom(next, position + 1);
                case TokenKind.Class:
                    return hasChar && token.Class!.Contains(text[position]) && MatchFrom(next, position + 1);
                case TokenKind.Star:
                    // any run without a slash
                    for (var end = position; ; end++)
                    {
                        if (MatchFrom(next, end))
                            return true;
                        if (end == text.Length || text[end] == '/')
                            return false;
                    }
                case TokenKind.AnyDirectories:
                    // nothing, or any text that ends with a slash
                    if (MatchFrom(next, position))
                        return true;
                    for (var end = position; end < text.Length; end++)
                    {
                        if (text[end] == '/' && MatchFrom(next, end + 1))
                            return true;
                    }
                    return false;
                default: // AnyRest
                    return MatchFrom(next, text.Length);
            }
        }
    }

    /// <summary>A bracket expression: <c>[abc]</c>, <c>[a-z0-9]</c>, <c>[^/]</c>, with <c>\c</c> escapes inside.</summary>
    private sealed class CharacterClass
    {
        private readonly bool _negated;
        private readonly List<(int Low, int High)> _ranges;

        private CharacterClass(bool negated, List<(int Low, int High)> ranges)
        {
            _negated = negated;
            _ranges = ranges;
        }

        public bool Contains(int ch) => _ranges.Any(r => r.Low <= ch && ch <= r.High) != _negated;

        /// <summary>Parses from just after <c>[</c> to just after the closing <c>]</c>, following Go's filepath.Match rules.</summary>
        public static CharacterClass Parse(int[] runes, ref int i)
        {
            var negated = i < runes.Length && runes[i] == '^';
            if (negated)
                i++;

            var ranges = new List<(int Low, int High)>();
            while (true)
            {
                if (i < runes.Length && runes[i] == ']' && ranges.Count > 0)
                {
                    i++;
                    return new CharacterClass(negated, ranges);
                }
                var low = ReadClassChar(runes, ref i);
                var high = low;
                if (i < runes.Length && runes[i] == '-')
                {
                    i++;
                    high = ReadClassChar(runes, ref i);
                    if (high < low)
                        throw new FormatException($"syntax error in pattern: range {Show(low)}-{Show(high)} is backwards");
                }
                ranges.Add((low, high));
            }
        }

        private static int ReadClassChar(int[] runes, ref int i)
        {
            if (i == runes.Length)
                throw new FormatException("syntax error in pattern: '[' without a matching ']'");
            var ch = runes[i++];
            if (ch is '-' or ']')
                throw new FormatException($"syntax error in pattern: unescaped '{(char)ch}' in a character class");
            if (ch != '\\')
                return ch;
            if (i == runes.Length)
                throw new FormatException("syntax error in pattern: '[' without a matching ']'");
            return runes[i++];
        }

        private static string Show(int ch) => char.ConvertFromUtf32(ch);
    }
}
