using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>
/// EXPOSE's port syntax: <c>80</c>, <c>80/tcp</c>, <c>8000-8010/udp</c>. Words holding a variable are
/// left alone: they are checked after expansion, at conversion.
/// </summary>
internal static class PortSpec
{
    private static readonly string[] Protocols = ["tcp", "udp", "sctp"];

    private sealed record Spec(string Start, string? End, string? Protocol);

    private static readonly Parser<char, Spec> Grammar =
        from start in Digit.AtLeastOnceString()
        from end in Char('-').Then(Digit.AtLeastOnceString()).Optional()
        from protocol in Char('/').Then(Any.ManyString()).Optional()
        from eof in End
        select new Spec(start, end.HasValue ? end.Value : null, protocol.HasValue ? protocol.Value : null);

    /// <summary>Null when the word is a valid port spec, otherwise what is wrong with it.</summary>
    public static string? Problem(string word)
    {
        if (word.Contains('$'))
        {
            return null;
        }
        var parsed = Grammar.Parse(word);
        if (!parsed.Success)
        {
            return $"invalid containerPort: {word.Split('/')[0]}";
        }
        var (start, end, protocol) = parsed.Value;
        if (!IsPort(start) || (end is not null && !IsPort(end)))
        {
            return $"invalid containerPort: {word.Split('/')[0]}";
        }
        if (end is not null && int.Parse(end) < int.Parse(start))
        {
            return $"invalid range specified for containerPort: {start}-{end}";
        }
        if (protocol is not null && !Protocols.Contains(protocol.ToLowerInvariant()))
        {
            return $"invalid proto: {protocol}";
        }
        return null;
    }

    private static bool IsPort(string digits) => digits.Length <= 5 && int.Parse(digits) <= 65535;
}
