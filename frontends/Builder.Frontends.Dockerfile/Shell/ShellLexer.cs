using System.Text;

namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// Dockerfile word expansion, with BuildKit's semantics (frontend/dockerfile/shell/lex.go): quotes,
/// escapes, <c>$V</c>, <c>${V}</c> and the <c>${V...}</c> operators. It is not a shell: there is no
/// command substitution, arithmetic, globbing of file names or tilde expansion.
/// <para>
/// The lexer is immutable and safe to share between threads; each call works on its own state.
/// </para>
/// <para>
/// Deliberate differences from BuildKit, all in malformed or corner cases: a word split by
/// <see cref="ProcessWords"/> keeps the text before a <c>${V:-w}</c> (BuildKit shares one buffer with the
/// nested argument and drops it), <c>${V</c> at the end of the word reports "missing '}'", and a bad
/// <c>%</c> pattern is named as written rather than reversed.
/// </para>
/// </summary>
public sealed class ShellLexer
{
    /// <param name="escapeChar"><c>\</c> by default, or <c>`</c> when the Dockerfile says <c># escape=`</c>.</param>
    public ShellLexer(char escapeChar = '\\')
    {
        if (escapeChar is not ('\\' or '`'))
            throw new ArgumentException($"escape character must be '\\' or '`', not '{escapeChar}'", nameof(escapeChar));
        EscapeChar = escapeChar;
    }

    public char EscapeChar { get; }

    // The switches below exist because BuildKit's parser and dispatcher reuse the lexer for jobs other
    // than plain expansion (finding heredocs, naming RUN steps, expanding heredoc bodies).

    /// <summary>Keep the quote characters in the output (quotes are still interpreted).</summary>
    public bool RawQuotes { get; init; }

    /// <summary>Keep escape characters in the output (escapes are still interpreted).</summary>
    public bool RawEscapes { get; init; }

    /// <summary>Treat quote characters as ordinary text (used for heredoc bodies).</summary>
    public bool SkipProcessQuotes { get; init; }

    /// <summary>Leave references to unset variables as written (<c>$X</c>, <c>${X:-y}</c>) instead of expanding them.</summary>
    public bool SkipUnsetEnv { get; init; }

    /// <summary>Expands <paramref name="word"/> into one string: quotes removed, no splitting (BuildKit's ProcessWord).</summary>
    /// <exception cref="ShellExpansionException">The word is malformed or a <c>${V?msg}</c> check failed.</exception>
    public string ProcessWord(string word, IShellEnvironment env) => Process(word, env).Word;

    /// <summary>Expands <paramref name="word"/> and splits it into words at unquoted whitespace (BuildKit's ProcessWords).</summary>
    /// <exception cref="ShellExpansionException">The word is malformed or a <c>${V?msg}</c> check failed.</exception>
    public IReadOnlyList<string> ProcessWords(string word, IShellEnvironment env) => Process(word, env).Words;

    /// <summary>Expands <paramref name="word"/> and reports both forms plus which variables it referenced.</summary>
    /// <exception cref="ShellExpansionException">The word is malformed or a <c>${V?msg}</c> check failed.</exception>
    public ShellExpansionResult Process(string word, IShellEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(env);
        try
        {
            return new WordExpansion(this, word, env).Run();
        }
        catch (ExpansionFailure failure)
        {
            throw new ShellExpansionException(word, failure.Message);
        }
    }

    /// <summary>Raised inside one expansion; <see cref="Process"/> turns it into a <see cref="ShellExpansionException"/> naming the word.</summary>
    private sealed class ExpansionFailure(string message) : Exception(message);

    /// <summary>The state of expanding one word: a cursor over its characters and the names seen so far.</summary>
    private sealed class WordExpansion(ShellLexer options, string word, IShellEnvironment env)
    {
        private const int End = RuneScanner.End;

        private readonly RuneScanner _scanner = new(word);
        private readonly HashSet<string> _matched = new(StringComparer.Ordinal);
        private readonly HashSet<string> _unmatched = new(StringComparer.Ordinal);
        private readonly int _escape = options.EscapeChar;

        // Whether escape characters are copied to the output. ${V#p}, ${V%p} and ${V/p/r} switch it on
        // while reading their pattern, because the pattern matcher needs the escapes to tell \* from *.
        private bool _rawEscapes = options.RawEscapes;

        public ShellExpansionResult Run()
        {
            var (text, words) = ProcessUntil(End, _rawEscapes);
            return new ShellExpansionResult(text, words, _matched, _unmatched);
        }

        /// <summary>
        /// Reads up to <paramref name="stopChar"/> (consumed) or the end of the word, expanding as it goes.
        /// Text from a variable is split at whitespace; quoted and escaped text never is.
        /// </summary>
        private (string Text, List<string> Words) ProcessUntil(int stopChar, bool rawEscapes)
        {
            var outer = _rawEscapes;
            _rawEscapes = rawEscapes;
            try
            {
                return ReadUntil(stopChar);
            }
            finally
            {
                _rawEscapes = outer;
            }
        }

        private (string Text, List<string> Words) ReadUntil(int stopChar)
        {
            var text = new StringBuilder();
            var words = new WordSplitter();

            while (_scanner.Peek() != End)
            {
                var ch = _scanner.Peek();
                if (stopChar != End && ch == stopChar)
                {
                    _scanner.Next();
                    return (text.ToString(), words.Finish());
                }

                if (ch == '$')
                {
                    var value = ProcessDollar();
                    text.Append(value);
                    words.AddString(value);
                }
                else if (ch == '<')
                {
                    var heredocStart = ProcessPossibleHeredoc();
                    text.Append(heredocStart);
                    words.AddRawString(heredocStart);
                }
                else if (ch is '\'' or '"' && !options.SkipProcessQuotes)
                {
                    var quoted = ch == '\'' ? ProcessSingleQuote() : ProcessDoubleQuote();
                    text.Append(quoted);
                    words.AddRawString(quoted);
                }
                else if (!ReadPlainOrEscaped(text, words))
                {
                    break;
                }
            }

            if (stopChar != End)
                throw new ExpansionFailure($"unexpected end of statement while looking for matching {char.ConvertFromUtf32(stopChar)}");
            return (text.ToString(), words.Finish());
        }

        /// <summary>
        /// Copies one ordinary character, or an escape and the character it protects. Returns false when
        /// the word ends in a lone escape, which is dropped (it would have joined lines in the Dockerfile).
        /// </summary>
        private bool ReadPlainOrEscaped(StringBuilder text, WordSplitter words)
        {
            var ch = _scanner.Next();
            if (ch != _escape)
            {
                words.AddChar(ch);
                Append(text, ch);
                return true;
            }

            if (_rawEscapes)
            {
                words.AddRawChar(ch);
                Append(text, ch);
            }
            var escaped = _scanner.Next();
            if (escaped == End)
                return false;
            words.AddRawChar(escaped);
            Append(text, escaped);
            return true;
        }

        /// <summary>'...': every character is literal and a single quote cannot be escaped inside.</summary>
        private string ProcessSingleQuote()
        {
            var result = new StringBuilder();
            var quote = _scanner.Next();
            if (options.RawQuotes)
                Append(result, quote);

            while (true)
            {
                var ch = _scanner.Next();
                if (ch == End)
                    throw new ExpansionFailure("unexpected end of statement while looking for matching single-quote");
                if (ch == '\'')
                {
                    if (options.RawQuotes)
                        Append(result, ch);
                    return result.ToString();
                }
                Append(result, ch);
            }
        }

        /// <summary>
        /// "...": variables expand; the escape character protects only <c>"</c>, <c>$</c> and itself
        /// and is kept literally before anything else (so <c>"a\tb"</c> stays <c>a\tb</c>).
        /// </summary>
        private string ProcessDoubleQuote()
        {
            var result = new StringBuilder();
            var quote = _scanner.Next();
            if (options.RawQuotes)
                Append(result, quote);

            while (true)
            {
                switch (_scanner.Peek())
                {
                    case End:
                        throw new ExpansionFailure("unexpected end of statement while looking for matching double-quote");
                    case '"':
                        var closing = _scanner.Next();
                        if (options.RawQuotes)
                            Append(result, closing);
                        return result.ToString();
                    case '$':
                        result.Append(ProcessDollar());
                        break;
                    default:
                        AppendDoubleQuotedChar(result);
                        break;
                }
            }
        }

        private void AppendDoubleQuotedChar(StringBuilder result)
        {
            var ch = _scanner.Next();
            if (ch == _escape)
            {
                if (_rawEscapes)
                    Append(result, ch);
                var next = _scanner.Peek();
                if (next == End)
                    return; // the caller reports the missing closing quote
                if (next == '"' || next == '$' || next == _escape)
                    ch = _scanner.Next();
            }
            Append(result, ch);
        }

        /// <summary>A <c>$</c>: <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME op word}</c>, or a literal <c>$</c>.</summary>
        private string ProcessDollar()
        {
            _scanner.Next(); // the '$'

            if (_scanner.Peek() != '{')
                return ExpandBareName();

            _scanner.Next(); // the '{'
            switch (_scanner.Peek())
            {
                case End:
                    throw new ExpansionFailure("syntax error: missing '}'");
                case '{' or '}' or ':':
                    // ${{x}, ${}, ${:-x}
                    throw new ExpansionFailure("syntax error: bad substitution");
            }

            var name = ReadName();
            var op = _scanner.Next();
            switch (op)
            {
                case '}':
                    return ExpandBracedName(name);
                case ':' or '+' or '-' or '?' or '#' or '%':
                    return ExpandWithModifier(name, op);
                case '/':
                    return ExpandReplacement(name);
                case End:
                    throw new ExpansionFailure("syntax error: missing '}'");
                default:
                    throw new ExpansionFailure($"unsupported modifier ({char.ConvertFromUtf32(op)}) in substitution");
            }
        }

        private string ExpandBareName()
        {
            var name = ReadName();
            if (name == "")
                return "$"; // "$" at the end, or before a character that cannot start a name: "$."
            var value = Lookup(name);
            if (value is null && options.SkipUnsetEnv)
                return "$" + name;
            return value ?? "";
        }

        private string ExpandBracedName(string name)
        {
            var value = Lookup(name);
            if (value is null && options.SkipUnsetEnv)
                return "${" + name + "}";
            return value ?? "";
        }

        /// <summary>
        /// <c>${V-w}</c>, <c>${V+w}</c>, <c>${V?w}</c>, <c>${V#p}</c>, <c>${V%p}</c> and, after a colon,
        /// <c>${V:-w}</c>, <c>${V:+w}</c>, <c>${V:?w}</c> where an empty value counts as unset.
        /// </summary>
        private string ExpandWithModifier(string name, int op)
        {
            var modifier = char.ConvertFromUtf32(op);
            var emptyIsUnset = false;
            if (op == ':')
            {
                emptyIsUnset = true;
                op = _scanner.Next();
                modifier += op == End ? "" : char.ConvertFromUtf32(op);
            }

            var isPattern = op is '#' or '%';
            if (emptyIsUnset && isPattern)
                throw new ExpansionFailure($"unsupported modifier ({modifier}) in substitution");

            var argument = ReadBracedArgument(stopChar: '}', rawEscapes: isPattern, missing: "syntax error: missing '}'");

            var value = Lookup(name);
            if (value is null && options.SkipUnsetEnv)
                return "${" + name + modifier + argument + "}";

            var isUnset = value is null || (emptyIsUnset && value == "");
            switch (op)
            {
                case '-':
                    return isUnset ? argument : value!;
                case '+':
                    return isUnset ? "" : argument;
                case '?':
                    return value is null ? throw RequiredVariableMissing(name, argument, "is not allowed to be unset")
                        : isUnset ? throw RequiredVariableMissing(name, argument, "is not allowed to be empty")
                        : value;
                case '#' or '%':
                    return TrimPattern(op, argument, value ?? "");
                default:
                    // ${V:=w}, ${V:x} ... (the argument was read first, as BuildKit does)
                    throw new ExpansionFailure($"unsupported modifier ({modifier}) in substitution");
            }
        }

        private static ExpansionFailure RequiredVariableMissing(string name, string message, string defaultMessage) =>
            new($"{name}: {(message == "" ? defaultMessage : message)}");

        /// <summary><c>#</c>/<c>%</c> remove the shortest match, <c>##</c>/<c>%%</c> the longest.</summary>
        private static string TrimPattern(int op, string pattern, string value)
        {
            var greedy = pattern.Length > 0 && pattern[0] == op;
            if (greedy)
                pattern = pattern[1..];
            return WithPatternErrors(pattern, () => op == '%'
                ? ShellPattern.TrimSuffix(pattern, value, greedy)
                : ShellPattern.TrimPrefix(pattern, value, greedy));
        }

        /// <summary><c>${V/pattern/replacement}</c> replaces the first match, <c>${V//pattern/replacement}</c> every match.</summary>
        private string ExpandReplacement(string name)
        {
            var replaceAll = _scanner.Peek() == '/';
            if (replaceAll)
                _scanner.Next();

            var pattern = ReadBracedArgument(stopChar: '/', rawEscapes: true, missing: "syntax error: missing '/' in ${}");
            var replacement = ReadBracedArgument(stopChar: '}', rawEscapes: true, missing: "syntax error: missing '}'");

            var value = Lookup(name);
            if (value is null && options.SkipUnsetEnv)
                return "${" + name + "/" + pattern + "/" + replacement + "}";

            return WithPatternErrors(pattern, () => replaceAll
                ? ShellPattern.ReplaceAll(pattern, value ?? "", replacement)
                : ShellPattern.ReplaceFirst(pattern, value ?? "", replacement));
        }

        private static string WithPatternErrors(string pattern, Func<string> apply)
        {
            try
            {
                return apply();
            }
            catch (FormatException invalid)
            {
                throw new ExpansionFailure($"invalid pattern ({pattern}) in substitution: {invalid.Message}");
            }
        }

        /// <summary>The word after an operator inside <c>${...}</c>, itself expanded (it may hold quotes and variables).</summary>
        private string ReadBracedArgument(int stopChar, bool rawEscapes, string missing)
        {
            try
            {
                return ProcessUntil(stopChar, rawEscapes).Text;
            }
            catch (ExpansionFailure) when (_scanner.Peek() == End)
            {
                // Reached the end of the word: say what was missing rather than what was being read.
                throw new ExpansionFailure(missing);
            }
        }

        /// <summary>
        /// A variable name: letters, digits and underscores; or a run of digits ($1, $001: positional
        /// parameters); or one special parameter character (@ * # ? - $ ! 0). Positional and special
        /// parameters are simply looked up, and are never set in a Dockerfile.
        /// </summary>
        private string ReadName()
        {
            var name = new StringBuilder();
            while (_scanner.Peek() != End)
            {
                var ch = _scanner.Peek();
                if (name.Length == 0 && IsDigit(ch))
                {
                    while (IsDigit(_scanner.Peek()))
                        Append(name, _scanner.Next());
                    return name.ToString();
                }
                if (name.Length == 0 && IsSpecialParameter(ch))
                    return char.ConvertFromUtf32(_scanner.Next());
                if (!IsLetter(ch) && !IsDigit(ch) && ch != '_')
                    break;
                Append(name, _scanner.Next());
            }
            return name.ToString();
        }

        /// <summary>
        /// <c>&lt;&lt;</c> and the blanks after it are kept together in one word, so that the parser can
        /// recognise a heredoc marker (<c>&lt;&lt; EOF</c>) in the split words.
        /// </summary>
        private string ProcessPossibleHeredoc()
        {
            _scanner.Next();
            if (_scanner.Peek() != '<')
                return "<";
            _scanner.Next();

            var marker = new StringBuilder("<<");
            while (_scanner.Peek() is ' ' or '\t' or '\r')
                Append(marker, _scanner.Next());
            return marker.ToString();
        }

        private string? Lookup(string name)
        {
            var value = env.Lookup(name);
            (value is null ? _unmatched : _matched).Add(name);
            return value;
        }

        private static bool IsSpecialParameter(int ch) => ch is '@' or '*' or '#' or '?' or '-' or '$' or '!' or '0';

        private static bool IsDigit(int ch) => ch != End && Rune.IsDigit(new Rune(ch));

        private static bool IsLetter(int ch) => Rune.IsLetter(new Rune(ch));

        private static void Append(StringBuilder builder, int ch) => builder.Append(char.ConvertFromUtf32(ch));
    }
}
