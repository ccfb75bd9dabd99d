namespace Builder.Core.Context;

/// <summary>
/// Shell patterns for one path component, with Go's <c>filepath.Match</c> rules (those COPY
/// sources follow): <c>*</c> any run of characters, <c>?</c> one character, <c>[abc]</c>,
/// <c>[a-z]</c>, <c>[^a-z]</c> character classes, and <c>\</c> escaping the next character.
/// A name never holds '/', so <c>*</c> never crosses directories.
/// </summary>
public static class WildcardPattern
{
    /// <summary>Whether <paramref name="pattern"/> has any character with a special meaning.</summary>
    public static bool ContainsWildcard(string pattern) => pattern.AsSpan().IndexOfAny("*?[\\") >= 0;

    /// <summary>Whether <paramref name="name"/> matches; throws <see cref="FormatException"/> for a malformed pattern.</summary>
    public static bool IsMatch(string pattern, string name)
    {
        Validate(pattern);
        return Matches(pattern, name);
    }

    /// <summary>Go reports a bad pattern even where matching would stop early; so do we, before matching.</summary>
    public static void Validate(string pattern)
    {
        var p = pattern.AsSpan();
        while (!p.IsEmpty)
        {
            switch (p[0])
            {
                case '\\':
                    if (p.Length < 2) throw BadPattern(pattern, "it ends in an escape '\\'");
                    p = p[2..];
                    break;
                case '[':
                    if (!TryMatchClass(p, ' ', out _, out var rest)) throw BadPattern(pattern, "a '[' class is unfinished or empty");
                    p = rest;
                    break;
                default:
                    p = p[1..];
                    break;
            }
        }
    }

    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        while (!pattern.IsEmpty)
        {
            switch (pattern[0])
            {
                case '*':
                    pattern = pattern.TrimStart('*');
                    if (pattern.IsEmpty) return true;
                    // Try the rest of the pattern at every position the star could end.
                    for (var i = 0; i <= name.Length; i++)
                        if (Matches(pattern, name[i..])) return true;
                    return false;
                case '?':
                    if (name.IsEmpty) return false;
                    break;
                case '[':
                    if (name.IsEmpty || !TryMatchClass(pattern, name[0], out var matched, out var rest) || !matched) return false;
                    pattern = rest;
                    name = name[1..];
                    continue;
                case '\\':
                    pattern = pattern[1..];
                    if (name.IsEmpty || name[0] != pattern[0]) return false;
                    break;
                default:
                    if (name.IsEmpty || name[0] != pattern[0]) return false;
                    break;
            }
            pattern = pattern[1..];
            name = name[1..];
        }
        return name.IsEmpty;
    }

    /// <summary>
    /// Reads the class at the start of <paramref name="pattern"/> (which begins with '[') and
    /// tells whether <paramref name="c"/> is in it. False when the class is malformed.
    /// </summary>
    private static bool TryMatchClass(ReadOnlySpan<char> pattern, char c, out bool matched, out ReadOnlySpan<char> rest)
    {
        matched = false;
        rest = default;
        var p = pattern[1..];
        var negated = !p.IsEmpty && p[0] == '^';
        if (negated) p = p[1..];

        var ranges = 0;
        while (true)
        {
            if (!p.IsEmpty && p[0] == ']' && ranges > 0)
            {
                rest = p[1..];
                matched ^= negated;
                return true;
            }
            if (!TryReadClassChar(ref p, out var low)) return false;
            var high = low;
            if (!p.IsEmpty && p[0] == '-')
            {
                p = p[1..];
                if (!TryReadClassChar(ref p, out high)) return false;
            }
            if (low <= c && c <= high) matched = true;
            ranges++;
        }
    }

    /// <summary>One character of a class, '\' escapes included; a bare '-' or ']' there is malformed, as in Go.</summary>
    private static bool TryReadClassChar(ref ReadOnlySpan<char> p, out char c)
    {
        c = default;
        if (p.IsEmpty || p[0] is '-' or ']') return false;
        if (p[0] == '\\')
        {
            p = p[1..];
            if (p.IsEmpty) return false;
        }
        c = p[0];
        p = p[1..];
        return true;
    }

    private static FormatException BadPattern(string pattern, string why) =>
        new($"invalid wildcard pattern \"{pattern}\": {why}");
}
