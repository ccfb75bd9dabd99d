using Builder.Frontends.Dockerfile.Shell;

namespace Builder.Frontends.Dockerfile.Tests.Shell;

public sealed class ShellLexerTests
{
    private static readonly ShellLexer Lexer = new('\\');

    private static ShellEnvironment Env(params string[] pairs) => ShellEnvironment.FromPairs(pairs);

    [Theory]
    [InlineData("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", "xxx  ccc")]
    [InlineData("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", "xxx bbb ccc")]
    [InlineData("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", "aaa bbb ")]
    [InlineData("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", "aaa  ")]
    [InlineData("${FOO?aaa}", "xxx")]
    [InlineData("${BAR?bbb}", "")]
    [InlineData("${FOO:?aaa}", "xxx")]
    [InlineData("${BAZ:-$FOO}", "xxx")]
    [InlineData("${BAZ:-'a  b'}", "a  b")]
    [InlineData("${BAZ:-\"$FOO\"}", "xxx")]
    public void Default_alternative_and_required_operators(string input, string expected) =>
        Assert.Equal(expected, Lexer.ProcessWord(input, Env("FOO=xxx", "BAR=")));

    [Theory]
    [InlineData("${FOO#*x}", "xxyy", "xyy")]
    [InlineData("${FOO##*x}", "xxyy", "yy")]
    [InlineData("${FOO#*x*y}", "xxyy", "y")]
    [InlineData("${FOO#*}", "xxyy", "xxyy")]
    [InlineData("${FOO#}", "xxyy", "xxyy")]
    [InlineData("${FOO#?\\?}", "???y", "?y")]
    [InlineData("${FOO%y*}", "xxyy", "xxy")]
    [InlineData("${FOO%%y*}", "xxyy", "xx")]
    [InlineData("${FOO%x}", "xxyy", "xxyy")]
    [InlineData("${FOO%%\\**}", "xx**", "xx")]
    [InlineData("${FOO%%\\**\\*}", "a***yy*", "a")]
    [InlineData("${FOO%.tar.gz}", "app.tar.gz", "app")]
    [InlineData("${FOO##*/}", "/usr/local/bin/tool", "tool")]
    [InlineData("${FOO%/*}", "/usr/local/bin/tool", "/usr/local/bin")]
    [InlineData("${FOO#[a]}", "[a]b", "b")] // brackets are literal, as in BuildKit
    [InlineData("${FOO#()[]{\\}^$.\\*\\?|\\\\}", "()[]{}^$.*?|\\x", "x")]
    [InlineData("${FOO%?}", "👽🚀", "👽")] // ? is one character, not one UTF-16 unit
    public void Prefix_and_suffix_removal(string input, string value, string expected) =>
        Assert.Equal(expected, Lexer.ProcessWord(input, Env("FOO=" + value)));

    [Theory]
    [InlineData("${FOO/o/0}", "foo boo", "f0o boo")]
    [InlineData("${FOO//o/0}", "foo boo", "f00 b00")]
    [InlineData("${FOO/o*/X}", "foo boo", "fX")] // * is greedy in replacements
    [InlineData("${FOO//\\//\\/}", "/tmp/foo.txt", "\\/tmp\\/foo.txt")]
    [InlineData("${FOO/http:\\/\\//https:\\/\\/}", "http://x.io", "https:\\/\\/x.io")]
    [InlineData("${FOO///}", "xxyy", "xxyy")]
    [InlineData("${MISSING/a/b}", "", "")]
    public void Pattern_replacement(string input, string value, string expected) =>
        Assert.Equal(expected, Lexer.ProcessWord(input, Env("FOO=" + value)));

    [Fact]
    public void Replacement_pattern_and_text_may_come_from_variables()
    {
        var env = Env("FOO=/a/foo/b/c.txt", "NEEDLE=/?/", "REPLACEMENT=/");
        Assert.Equal("/foo/b/c.txt - /foo/c.txt",
            Lexer.ProcessWord("${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}", env));
    }

    [Fact]
    public void Replace_all_treats_dollar_zero_in_the_replacement_as_the_match()
    {
        // BuildKit hands the replacement to Go's Regexp.ReplaceAllString, which expands $0 and ${0};
        // the first-match form inserts the text as is.
        var env = Env("FOO=ab", "R=[$0|${0}|$$|$x]");
        Assert.Equal("[a|a|$|][b|b|$|]", Lexer.ProcessWord("${FOO//?/$R}", env));
        Assert.Equal("[$0|${0}|$$|$x]b", Lexer.ProcessWord("${FOO/?/$R}", env));
    }

    [Fact]
    public void Empty_pattern_replaces_at_the_start() =>
        Assert.Equal("wwxxyy", Lexer.ProcessWord("${FOO/$BAR/ww}", Env("FOO=xxyy", "BAR=")));

    [Theory]
    [InlineData("'a $FOO b'", "a $FOO b")]
    [InlineData("\"a $FOO b\"", "a xxx b")]
    [InlineData("\"a \\\"q\\\" b\"", "a \"q\" b")]
    [InlineData("\"\\a\"", "\\a")] // inside double quotes, \ only escapes " $ and \
    [InlineData("\\a", "a")]
    [InlineData("a\\ b", "a b")]
    [InlineData("$", "$")]
    [InlineData("a$", "a$")]
    [InlineData("$.x", "$.x")]
    [InlineData("$1x", "x")]
    [InlineData("${FOO}}", "xxx}")]
    public void Quotes_and_escapes(string input, string expected) =>
        Assert.Equal(expected, Lexer.ProcessWord(input, Env("FOO=xxx")));

    [Theory]
    [InlineData("a`$FOO", "a$FOO")]
    [InlineData("a\\$FOO", "a\\xxx")] // backslash is an ordinary character now
    [InlineData("\"a`\"b\"", "a\"b")]
    [InlineData("C:\\path\\`$FOO", "C:\\path\\$FOO")]
    [InlineData("a` b", "a b")]
    [InlineData("trailing`", "trailing")]
    public void Backtick_escape_character(string input, string expected) =>
        Assert.Equal(expected, new ShellLexer('`').ProcessWord(input, Env("FOO=xxx")));

    [Fact]
    public void Words_split_on_unquoted_whitespace_including_whitespace_from_variables()
    {
        var env = Env("LIST=a  b", "EMPTY=");
        Assert.Equal(["x", "a", "b", "y"], Lexer.ProcessWords("x $LIST y", env));
        Assert.Equal(["x", "a  b", "y"], Lexer.ProcessWords("x \"$LIST\" y", env));
        Assert.Equal(["x", "y"], Lexer.ProcessWords("x \"\" $EMPTY y", env));
    }

    [Fact]
    public void Words_keep_text_before_a_braced_default()
    {
        // BuildKit shares one word buffer between ${...} arguments and the enclosing word, which loses
        // "80" here (it yields ["1"]); we keep the whole word, as a shell does.
        Assert.Equal(["801/tcp"], Lexer.ProcessWords("80${X:-1}/tcp", ShellEnvironment.Empty));
    }

    [Theory]
    [InlineData("${V:?}", "failed to process \"${V:?}\": V: is not allowed to be unset")]
    [InlineData("${V?}", "failed to process \"${V?}\": V: is not allowed to be unset")]
    [InlineData("${E:?}", "failed to process \"${E:?}\": E: is not allowed to be empty")]
    [InlineData("${V:?set V to a tag}", "failed to process \"${V:?set V to a tag}\": V: set V to a tag")]
    [InlineData("${E:?need $A}", "failed to process \"${E:?need $A}\": E: need x")]
    [InlineData("${}", "failed to process \"${}\": syntax error: bad substitution")]
    [InlineData("${:-a}", "failed to process \"${:-a}\": syntax error: bad substitution")]
    [InlineData("${V", "failed to process \"${V\": syntax error: missing '}'")]
    [InlineData("${V:-a", "failed to process \"${V:-a\": syntax error: missing '}'")]
    [InlineData("${V/a", "failed to process \"${V/a\": syntax error: missing '/' in ${}")]
    [InlineData("${V:=a}", "failed to process \"${V:=a}\": unsupported modifier (:=) in substitution")]
    [InlineData("${V.}", "failed to process \"${V.}\": unsupported modifier (.) in substitution")]
    [InlineData("${V:#a}", "failed to process \"${V:#a}\": unsupported modifier (:#) in substitution")]
    [InlineData("${A#\\x}", "failed to process \"${A#\\\\x}\": invalid pattern (\\x) in substitution: invalid escape '\\x'")]
    [InlineData("'abc", "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote")]
    [InlineData("\"abc", "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote")]
    public void Errors_read_like_buildkit(string input, string message)
    {
        var error = Assert.Throws<ShellExpansionException>(() => Lexer.ProcessWord(input, Env("E=", "A=x")));
        Assert.Equal(message, error.Message);
        Assert.Equal(input, error.Word);
    }

    [Fact]
    public void Result_reports_matched_and_unmatched_names()
    {
        var result = Lexer.Process("${FOO:-a} ${BAR-b} $BAZ ${FOO#x}", Env("FOO=xxx", "BAR="));
        Assert.Equal("xxx   xx", result.Word);
        Assert.Equal(["BAR", "FOO"], result.Matched.Order());
        Assert.Equal(["BAZ"], result.Unmatched.Order());
    }

    [Fact]
    public void Names_are_case_sensitive() =>
        Assert.Equal("|X", Lexer.ProcessWord("$foo|$FOO", Env("FOO=X")));

    [Fact]
    public void Later_pairs_override_earlier_ones()
    {
        var env = Env("A=1", "B=2", "A=3", "C");
        Assert.Equal("3", env.Lookup("A"));
        Assert.Equal("", env.Lookup("C"));
        Assert.Null(env.Lookup("D"));
        Assert.Equal(["A", "B", "C"], env.Names);
    }

    [Fact]
    public void SkipUnsetEnv_and_RawQuotes_leave_unset_references_and_quotes_as_written()
    {
        var lexer = new ShellLexer { RawQuotes = true, SkipUnsetEnv = true };
        Assert.Equal("$X ${X} ${X:-d} ${X/a/b} '$Y' \"1\" 2",
            lexer.ProcessWord("$X ${X} ${X:-d} ${X/a/b} '$Y' \"$Y\" $Z", Env("Y=1", "Z=2")));
    }

    [Fact]
    public void Heredoc_marker_stays_one_word() =>
        Assert.Equal(["cat", "<< EOF", "x<y"], Lexer.ProcessWords("cat << EOF x<y", ShellEnvironment.Empty));

    [Fact]
    public void SkipProcessQuotes_treats_quotes_as_text() =>
        Assert.Equal("say \"xxx\" 'xxx'", new ShellLexer { SkipProcessQuotes = true }
            .ProcessWord("say \"$FOO\" '$FOO'", Env("FOO=xxx")));

    [Fact]
    public void Only_backslash_and_backtick_are_escape_characters() =>
        Assert.Throws<ArgumentException>(() => new ShellLexer('^'));
}
