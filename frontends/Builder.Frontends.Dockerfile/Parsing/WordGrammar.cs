using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// Splits ENV, LABEL and ARG arguments into words on whitespace, the way BuildKit's parser does
/// before any expansion: quotes group words and are kept, an escape character and the character
/// after it are kept together (so <c>a\ b</c> stays one word), and nothing is unquoted yet.
/// </summary>
internal sealed class WordGrammar
{
    private static readonly WordGrammar Backslash = new('\\');
    private static readonly WordGrammar Backtick = new('`');

    private readonly Parser<char, IReadOnlyList<string>> _words;

    private WordGrammar(char escape)
    {
        // An escape at the very end of the text is dropped.
        var escapedPair = Char(escape).Then(Any.Select(c => $"{escape}{c}").Or(End.ThenReturn("")));

        // The escape character means nothing inside single quotes.
        var singleQuoted =
            from open in Char('\'')
            from body in AnyCharExcept('\'').ManyString()
            from close in Char('\'').Optional()
            select "'" + body + (close.HasValue ? "'" : "");

        var doubleQuoted =
            from open in Char('"')
            from body in escapedPair.Or(Token(c => c != '"' && c != escape).AtLeastOnceString()).Many()
            from close in Char('"').Optional()
            select "\"" + string.Concat(body) + (close.HasValue ? "\"" : "");

        var plain = Token(c => !char.IsWhiteSpace(c) && c != '\'' && c != '"' && c != escape).AtLeastOnceString();
        var word = OneOf(escapedPair, singleQuoted, doubleQuoted, plain).AtLeastOnce().Select(string.Concat);
        var spaces = Token(char.IsWhiteSpace).SkipMany();

        _words = spaces.Then(word.Before(spaces).Many())
            .Select(found => (IReadOnlyList<string>)found.Where(w => w.Length > 0).ToList());
    }

    public static IReadOnlyList<string> Split(string text, char escape) =>
        (escape == '`' ? Backtick : Backslash)._words.ParseOrThrow(text);
}
