using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// Recognises parser directives (<c># escape=`</c>, <c># syntax=…</c>, <c># check=…</c>).
/// They count only at the very top of the file: the first line that is not a known directive
/// (an instruction, a blank line, any other comment) ends the search for good.
/// </summary>
internal sealed class DirectiveReader(DockerfileSource source)
{
    private static readonly HashSet<string> KnownDirectives = ["syntax", "escape", "check"];

    // Go's regexp \s: ASCII whitespace only.
    private static readonly Parser<char, Unit> GoSpaces =
        Token(c => c is ' ' or '\t' or '\n' or '\f' or '\r' or '\v').SkipMany();

    private static readonly Parser<char, string> DirectiveName =
        Token(char.IsAsciiLetter).Then(Token(char.IsAsciiLetterOrDigit).ManyString(), (first, rest) => first + rest);

    /// <summary><c>#</c>, a name, <c>=</c>, then a non-empty value; space around each part is allowed.</summary>
    private static readonly Parser<char, (string Name, string Value)> DirectiveLine =
        from hash in Char('#')
        from leading in Token(char.IsWhiteSpace).SkipMany()
        from name in DirectiveName
        from beforeEquals in GoSpaces
        from equalsSign in Char('=')
        from afterEquals in GoSpaces
        from value in Any.AtLeastOnceString()
        select (name.ToLowerInvariant(), value.TrimEnd(' ', '\t', '\n', '\f', '\r', '\v'));

    private readonly List<ParserDirective> _found = [];
    private bool _done;

    public IReadOnlyList<ParserDirective> Directives => _found;

    public char EscapeToken { get; private set; } = '\\';

    public List<string> Warnings { get; } = [];

    /// <summary>Looks at one line (leading whitespace already trimmed where BuildKit trims it).</summary>
    public void Inspect(string line, int lineNumber)
    {
        if (_done)
        {
            return;
        }
        var match = DirectiveLine.Parse(line);
        if (!match.Success || !KnownDirectives.Contains(match.Value.Name))
        {
            _done = true;
            return;
        }
        var (name, value) = match.Value;
        if (_found.Any(d => d.Name == name))
        {
            // The first occurrence wins; BuildKit rejects the repeat, we keep building but say so.
            Warnings.Add($"{source.FileName}:{lineNumber}: only one {name} parser directive can be used; this one is ignored");
            return;
        }
        if (name == "escape")
        {
            EscapeToken = ParseEscapeToken(value, lineNumber);
        }
        _found.Add(new ParserDirective(name, value, lineNumber));
    }

    private char ParseEscapeToken(string value, int lineNumber) => value switch
    {
        "\\" => '\\',
        "`" => '`',
        _ => throw source.Error($"invalid escape token '{value}' does not match ` or \\", lineNumber),
    };
}
