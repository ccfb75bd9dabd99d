using System.Text;
using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>A heredoc announced on an instruction line, before its body has been read.</summary>
internal readonly record struct HeredocMarker(string Name, bool Expand, bool Chomp);

/// <summary>
/// Finds heredoc markers (<c>&lt;&lt;EOF</c>, <c>&lt;&lt;-EOF</c>, <c>&lt;&lt;"EOF"</c>, <c>3&lt;&lt;EOF</c>)
/// among the shell words of an instruction line. A marker inside quotes (<c>'&lt;&lt;EOF'</c>) is
/// just text. Quoting any part of the name turns off expansion of the body.
/// </summary>
internal static class HeredocMarkers
{
    // Shell words with quotes and escapes kept as written; only their grouping matters here.
    private static readonly Parser<char, string> EscapedPair =
        Char('\\').Then(Any.Select(c => "\\" + c).Or(End.ThenReturn("\\")));

    private static Parser<char, string> Quoted(char quote, bool escapes) =>
        from open in Char(quote)
        from body in (escapes ? EscapedPair : Fail<string>())
            .Or(Token(c => c != quote && (!escapes || c != '\\')).AtLeastOnceString()).Many()
        from close in Char(quote) // an unterminated quote makes the line unusable for heredocs
        select quote + string.Concat(body) + quote;

    private static readonly Parser<char, IEnumerable<string>> RawWords =
        Token(char.IsWhiteSpace).SkipMany().Then(
            OneOf(
                EscapedPair,
                Quoted('\'', escapes: false),
                Quoted('"', escapes: true),
                Token(c => !char.IsWhiteSpace(c) && c is not ('\'' or '"' or '\\')).AtLeastOnceString())
            .AtLeastOnce().Select(string.Concat)
            .Before(Token(char.IsWhiteSpace).SkipMany())
            .Many())
        .Before(End);

    /// <summary>An optional file descriptor, <c>&lt;&lt;</c>, an optional <c>-</c>, then the name part.</summary>
    private readonly record struct MarkerParts(bool Chomp, string NamePart);

    private static readonly Parser<char, MarkerParts> Marker =
        from descriptor in Digit.SkipMany()
        from arrows in String("<<")
        from dash in Char('-').Optional()
        from rest in AnyCharExcept('<').ManyString()
        from end in End
        select new MarkerParts(dash.HasValue, rest);

    public static IReadOnlyList<HeredocMarker> Find(string line)
    {
        var words = RawWords.Parse(line);
        if (!words.Success)
        {
            return [];
        }
        var markers = new List<HeredocMarker>();
        foreach (var word in JoinDetachedArrows(words.Value.ToList()))
        {
            if (TryParse(word) is { } marker)
            {
                markers.Add(marker);
            }
        }
        return markers;
    }

    /// <summary>Parses one word as a heredoc marker; null when it is not one.</summary>
    public static HeredocMarker? TryParse(string word)
    {
        var marker = Marker.Parse(word);
        if (!marker.Success || marker.Value.NamePart.Length == 0)
        {
            return null;
        }
        var name = Unquote(marker.Value.NamePart.Trim());
        return name is null ? null : new HeredocMarker(name.Value.Name, !name.Value.Quoted, marker.Value.Chomp);
    }

    // "<< EOF" and "<<- EOF" are written with a space; BuildKit treats them like "<<EOF".
    private static IEnumerable<string> JoinDetachedArrows(List<string> words)
    {
        for (var i = 0; i < words.Count; i++)
        {
            var bare = Marker.Parse(words[i]) is { Success: true, Value.NamePart.Length: 0 };
            if (bare && i + 1 < words.Count)
            {
                yield return words[i] + " " + words[++i];
            }
            else
            {
                yield return words[i];
            }
        }
    }

    /// <summary>
    /// Removes quotes and escapes from a heredoc name the way a shell would (no variables are
    /// set, so <c>$X</c> stays as written). Null when it is not exactly one word.
    /// </summary>
    private static (string Name, bool Quoted)? Unquote(string text)
    {
        var name = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    if (i + 1 < text.Length)
                    {
                        name.Append(text[++i]);
                    }
                    break;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        return null;
                    }
                    name.Append(text, i + 1, close - i - 1);
                    quoted = true;
                    i = close;
                    break;
                case '"':
                    if (!TryReadDoubleQuoted(text, ref i, name))
                    {
                        return null;
                    }
                    quoted = true;
                    break;
                default:
                    if (char.IsWhiteSpace(c))
                    {
                        return null; // two words: "<<EOF sh" is not a heredoc
                    }
                    name.Append(c);
                    break;
            }
        }
        return (name.ToString(), quoted);
    }

    // Inside double quotes a backslash escapes only what a shell lets it escape.
    private static bool TryReadDoubleQuoted(string text, ref int i, StringBuilder name)
    {
        for (i++; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                return true;
            }
            if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
            {
                c = text[++i];
            }
            name.Append(c);
        }
        return false;
    }
}
