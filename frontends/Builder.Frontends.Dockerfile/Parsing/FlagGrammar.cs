using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>A flag word found before the arguments, and where in the text it starts.</summary>
internal readonly record struct FlagWord(string Text, int Offset);

/// <summary>The flags at the start of an instruction's arguments, and where the arguments begin.</summary>
internal readonly record struct FlagSection(IReadOnlyList<FlagWord> Flags, int RestOffset);

/// <summary>
/// Builder flags are the words starting with <c>--</c> right after the instruction name.
/// Inside a flag word quotes group and disappear, and a backslash takes the next character
/// literally (always a backslash here, whatever the escape directive says, as in BuildKit).
/// A lone <c>--</c> ends the flags and is dropped.
/// </summary>
internal static class FlagGrammar
{
    private static readonly Parser<char, Unit> Spaces = Token(char.IsWhiteSpace).SkipMany();

    // A trailing backslash at the very end of the text vanishes.
    private static readonly Parser<char, string> Escaped =
        Char('\\').Then(Any.Select(c => c.ToString()).Or(End.ThenReturn("")));

    private static Parser<char, string> Quoted(char quote) =>
        from open in Char(quote)
        from body in Escaped.Or(Token(c => c != quote && c != '\\').AtLeastOnceString()).Many()
        from close in Char(quote).Optional()
        select string.Concat(body);

    private static readonly Parser<char, string> Plain =
        Token(c => !char.IsWhiteSpace(c) && c is not ('"' or '\'' or '\\')).AtLeastOnceString();

    private static readonly Parser<char, FlagWord> Word =
        from offset in CurrentOffset
        from dashes in Lookahead(String("--"))
        from pieces in OneOf(Escaped, Quoted('"'), Quoted('\''), Plain).AtLeastOnce()
        select new FlagWord(string.Concat(pieces), offset);

    private static readonly Parser<char, FlagSection> Section =
        from flags in Try(Spaces.Then(Word).Where(w => w.Text != "--")).Many()
        from endOfFlags in Try(Spaces.Then(Word).Where(w => w.Text == "--")).Optional()
        from restOffset in CurrentOffset
        select new FlagSection(flags.ToList(), restOffset);

    /// <summary>Splits leading flags off <paramref name="text"/>; never fails.</summary>
    public static FlagSection Split(ReadOnlySpan<char> text) => Section.ParseOrThrow(text);
}
