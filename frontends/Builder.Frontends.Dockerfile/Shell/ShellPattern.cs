using System.Text;

namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// The pattern in <c>${V#p}</c>, <c>${V%p}</c> and <c>${V/p/r}</c>: <c>*</c> matches any run of characters,
/// <c>?</c> one character, <c>\*</c> <c>\?</c> <c>\\</c> the literal character, and <c>\}</c> <c>\/</c> the
/// delimiter. Everything else is literal — like BuildKit, bracket expressions (<c>[a-z]</c>) are not supported
/// and <c>[</c> matches itself. BuildKit compiles these patterns to Go regular expressions, so, as there,
/// wildcards never match a newline and matching follows the regex engine's leftmost-first rule.
/// </summary>
internal sealed class ShellPattern
{
    private enum Kind { Literal, AnyChar, AnyString }

    private readonly record struct Token(Kind Kind, int Rune);

    private readonly Token[] _tokens;
    private readonly bool _greedy;

    private ShellPattern(Token[] tokens, bool greedy)
    {
        _tokens = tokens;
        _greedy = greedy;
    }

    /// <summary>
    /// Parses <paramref name="pattern"/>; <paramref name="greedy"/> makes <c>*</c> prefer the longest
    /// text (<c>##</c>, <c>%%</c>, <c>/</c>) instead of the shortest (<c>#</c>, <c>%</c>).
    /// </summary>
    public static ShellPattern Parse(string pattern, bool greedy)
    {
        var tokens = new List<Token>();
        var scanner = new RuneScanner(pattern);
        for (var ch = scanner.Next(); ch != RuneScanner.End; ch = scanner.Next())
        {
            switch (ch)
            {
                case '*':
                    tokens.Add(new Token(Kind.AnyString, 0));
                    break;
                case '?':
                    tokens.Add(new Token(Kind.AnyChar, 0));
                    break;
                case '\\' when scanner.Peek() is '}' or '/':
                    // The escape only kept the delimiter from ending ${...}; the delimiter itself is literal
                    // and is read on the next turn.
                    break;
                case '\\':
                    var escaped = scanner.Next();
                    if (escaped is not ('*' or '?' or '\\'))
                        throw new FormatException(InvalidEscapeMessage(escaped));
                    tokens.Add(new Token(Kind.Literal, escaped));
                    break;
                default:
                    tokens.Add(new Token(Kind.Literal, ch));
                    break;
            }
        }
        return new ShellPattern([.. tokens], greedy);
    }

    /// <summary><c>${V#p}</c> / <c>${V##p}</c>: remove the part of <paramref name="value"/> that the pattern matches at its start.</summary>
    public static string TrimPrefix(string pattern, string value, bool greedy)
    {
        var text = ToRunes(value);
        var end = Parse(pattern, greedy).MatchAt(text, 0);
        return end < 0 ? value : FromRunes(text.AsSpan(end));
    }

    /// <summary>
    /// <c>${V%p}</c> / <c>${V%%p}</c>: remove the part that matches at the end. Like BuildKit, this
    /// reverses both the pattern (keeping escapes before the character they escape) and the value,
    /// and trims a prefix.
    /// </summary>
    public static string TrimSuffix(string pattern, string value, bool greedy)
    {
        var trimmed = TrimPrefix(ReversePattern(pattern), Reverse(value), greedy);
        return Reverse(trimmed);
    }

    /// <summary><c>${V/p/r}</c>: replace the leftmost (longest) match of the pattern, if any, with <paramref name="replacement"/>.</summary>
    public static string ReplaceFirst(string pattern, string value, string replacement)
    {
        var text = ToRunes(value);
        var (start, end) = Parse(pattern, greedy: true).FindFrom(text, 0);
        if (start < 0)
            return value;
        return FromRunes(text.AsSpan(0, start)) + replacement + FromRunes(text.AsSpan(end));
    }

    /// <summary>
    /// <c>${V//p/r}</c>: replace every match. This follows Go's Regexp.ReplaceAllString, which BuildKit
    /// uses: an empty match next to the previous match is not replaced, and <c>$0</c> / <c>${0}</c> in the
    /// replacement stand for the matched text, <c>$$</c> for a dollar, and any other <c>$name</c> for nothing.
    /// </summary>
    public static string ReplaceAll(string pattern, string value, string replacement)
    {
        var compiled = Parse(pattern, greedy: true);
        var text = ToRunes(value);
        var result = new StringBuilder();
        var lastMatchEnd = 0;
        var searchFrom = 0;
        while (searchFrom <= text.Length)
        {
            var (start, end) = compiled.FindFrom(text, searchFrom);
            if (start < 0)
                break;
            result.Append(FromRunes(text.AsSpan(lastMatchEnd, start - lastMatchEnd)));
            if (end > lastMatchEnd || start == 0)
                result.Append(ExpandReplacement(replacement, FromRunes(text.AsSpan(start, end - start))));
            lastMatchEnd = end;
            // Always move forward, by at least one character after an empty match.
            searchFrom = Math.Max(searchFrom + 1, end);
        }
        result.Append(FromRunes(text.AsSpan(lastMatchEnd)));
        return result.ToString();
    }

    /// <summary>The leftmost match starting at or after <paramref name="from"/>, or (-1, -1).</summary>
    private (int Start, int End) FindFrom(Rune[] text, int from)
    {
        for (var start = from; start <= text.Length; start++)
        {
            var end = MatchAt(text, start);
            if (end >= 0)
                return (start, end);
        }
        return (-1, -1);
    }

    /// <summary>
    /// Where a match that begins at <paramref name="start"/> ends, or -1. Tries the wildcard lengths in
    /// preference order (longest first when greedy) and returns the first that completes the pattern —
    /// the same choice a backtracking regex engine makes. Dead ends are remembered so that patterns
    /// with many <c>*</c> stay polynomial.
    /// </summary>
    private int MatchAt(Rune[] text, int start)
    {
        var deadEnds = new HashSet<(int Token, int Position)>();
        return MatchFrom(0, start);

        int MatchFrom(int tokenIndex, int position)
        {
            if (tokenIndex == _tokens.Length)
                return position;
            if (deadEnds.Contains((tokenIndex, position)))
                return -1;

            var end = MatchToken(tokenIndex, position);
            if (end < 0)
                deadEnds.Add((tokenIndex, position));
            return end;
        }

        int MatchToken(int tokenIndex, int position)
        {
            var token = _tokens[tokenIndex];
            switch (token.Kind)
            {
                case Kind.Literal:
                    return position < text.Length && text[position].Value == token.Rune
                        ? MatchFrom(tokenIndex + 1, position + 1)
                        : -1;
                case Kind.AnyChar:
                    return position < text.Length && IsWildcardChar(text[position])
                        ? MatchFrom(tokenIndex + 1, position + 1)
                        : -1;
                default:
                    var longest = 0;
                    while (position + longest < text.Length && IsWildcardChar(text[position + longest]))
                        longest++;
                    for (var i = 0; i <= longest; i++)
                    {
                        var length = _greedy ? longest - i : i;
                        var end = MatchFrom(tokenIndex + 1, position + length);
                        if (end >= 0)
                            return end;
                    }
                    return -1;
            }
        }
    }

    // Go's regexp "." does not match a newline, and BuildKit translates * and ? to ".*" and ".".
    private static bool IsWildcardChar(Rune rune) => rune.Value != '\n';

    /// <summary>Reverses a pattern but keeps each escape in front of the character it escapes: <c>a\*c</c> → <c>c\*a</c>.</summary>
    private static string ReversePattern(string pattern)
    {
        var runes = ToRunes(pattern);
        var reversed = new Rune[runes.Length];
        var last = runes.Length - 1;
        for (var i = 0; i <= last;)
        {
            if (runes[i].Value == '\\' && i != last)
            {
                reversed[last - i - 1] = runes[i];
                reversed[last - i] = runes[i + 1];
                i += 2;
            }
            else
            {
                reversed[last - i] = runes[i];
                i++;
            }
        }
        return FromRunes(reversed);
    }

    private static string ExpandReplacement(string template, string matched)
    {
        if (!template.Contains('$'))
            return template;

        var result = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            var dollar = template.IndexOf('$', i);
            if (dollar < 0)
                break;
            result.Append(template, i, dollar - i);
            i = dollar + 1;
            if (i < template.Length && template[i] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (TryReadGroupName(template, ref i, out var name))
            {
                // The pattern has no capture groups: only group 0, the whole match, has a value.
                if (name == "0")
                    result.Append(matched);
            }
            else
            {
                result.Append('$');
            }
        }
        result.Append(template, i, template.Length - i);
        return result.ToString();
    }

    /// <summary>Reads <c>name</c> or <c>{name}</c> (letters, digits, underscore) at <paramref name="index"/>.</summary>
    private static bool TryReadGroupName(string template, ref int index, out string name)
    {
        name = "";
        var start = index;
        var braced = start < template.Length && template[start] == '{';
        if (braced)
            start++;
        var end = start;
        while (end < template.Length && (char.IsLetterOrDigit(template[end]) || template[end] == '_'))
            end++;
        if (end == start)
            return false;
        if (braced)
        {
            if (end >= template.Length || template[end] != '}')
                return false;
            index = end + 1;
        }
        else
        {
            index = end;
        }
        name = template[start..end];
        return true;
    }

    private static string InvalidEscapeMessage(int escaped) =>
        escaped == RuneScanner.End
            ? "invalid escape '\\' at end of pattern"
            : $"invalid escape '\\{char.ConvertFromUtf32(escaped)}'";

    private static Rune[] ToRunes(string text) => text.EnumerateRunes().ToArray();

    private static string Reverse(string text)
    {
        var runes = ToRunes(text);
        Array.Reverse(runes);
        return FromRunes(runes);
    }

    private static string FromRunes(ReadOnlySpan<Rune> runes)
    {
        var builder = new StringBuilder();
        foreach (var rune in runes)
            builder.Append(rune.ToString());
        return builder.ToString();
    }
}
