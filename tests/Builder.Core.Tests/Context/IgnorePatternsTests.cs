using Builder.Core.Context;

namespace Builder.Core.Tests.Context;

public sealed class IgnorePatternsTests
{
    private static IgnorePatterns Rules(params string[] lines) => IgnorePatterns.Parse(string.Join("\n", lines));

    private static void AssertExcluded(IgnorePatterns rules, params string[] paths)
    {
        foreach (var path in paths)
            Assert.True(rules.IsExcluded(path), $"{path} should be excluded");
    }

    private static void AssertIncluded(IgnorePatterns rules, params string[] paths)
    {
        foreach (var path in paths)
            Assert.False(rules.IsExcluded(path), $"{path} should be included");
    }

    // The examples of docs.docker.com/build/concepts/context/#dockerignore-files

    [Fact]
    public void Docs_star_slash_temp_star_matches_names_in_immediate_subdirectories()
    {
        var rules = Rules("# comment", "*/temp*");
        AssertExcluded(rules, "somedir/temporary.txt", "somedir/temp", "somedir/temp/inner.txt");
        AssertIncluded(rules, "temp", "temporary.txt", "somedir/sub/temporary.txt", "somedir/other");
    }

    [Fact]
    public void Docs_two_levels_down()
    {
        var rules = Rules("*/*/temp*");
        AssertExcluded(rules, "somedir/subdir/temporary.txt");
        AssertIncluded(rules, "somedir/temporary.txt", "a/b/c/temporary.txt");
    }

    [Fact]
    public void Docs_question_mark_is_one_character()
    {
        var rules = Rules("temp?");
        AssertExcluded(rules, "tempa", "tempb");
        AssertIncluded(rules, "temp", "tempab", "dir/tempa");
    }

    [Fact]
    public void Docs_double_star_matches_any_number_of_directories()
    {
        var rules = Rules("**/*.go");
        AssertExcluded(rules, "main.go", "cmd/main.go", "a/b/c/d.go");
        AssertIncluded(rules, "main.gox", "go/readme");
    }

    [Fact]
    public void Docs_exception_keeps_readme()
    {
        var rules = Rules("*.md", "!README.md");
        AssertExcluded(rules, "CHANGELOG.md", "NOTES.md");
        AssertIncluded(rules, "README.md", "docs/guide.md");
    }

    [Fact]
    public void Docs_later_exclusion_beats_earlier_exception()
    {
        var rules = Rules("*.md", "!README*.md", "README-secret.md");
        AssertExcluded(rules, "CHANGELOG.md", "README-secret.md");
        AssertIncluded(rules, "README.md", "README-dev.md");
    }

    [Fact]
    public void Docs_later_exception_beats_earlier_exclusion()
    {
        var rules = Rules("*.md", "README-secret.md", "!README*.md");
        AssertExcluded(rules, "CHANGELOG.md");
        AssertIncluded(rules, "README.md", "README-secret.md");
    }

    [Fact]
    public void A_matching_directory_excludes_everything_below_it()
    {
        var rules = Rules("node_modules", "build/");
        AssertExcluded(rules, "node_modules", "node_modules/x/y.js", "build/out/a.o");
        AssertIncluded(rules, "src/node_modules", "builds");
    }

    [Fact]
    public void Exception_inside_excluded_directory_takes_back_the_file()
    {
        var rules = Rules("docs", "!docs/README.md");
        AssertExcluded(rules, "docs", "docs/guide.md");
        AssertIncluded(rules, "docs/README.md");
    }

    [Fact]
    public void Patterns_are_cleaned_and_relative_to_the_root()
    {
        var rules = Rules("/abs", "./dot", "a//b/", "x/../y", "  spaced  ");
        AssertExcluded(rules, "abs", "dot", "a/b", "y", "spaced", "abs/file");
        AssertIncluded(rules, "x/y", "x");
        Assert.Equal(["abs", "dot", "a/b", "y", "spaced"], rules.Patterns.Select(p => p.Pattern));
    }

    [Fact]
    public void Comments_blank_lines_bom_and_crlf_are_handled()
    {
        var rules = IgnorePatterns.Parse("\uFEFF# comment\r\n\r\n*.log\r\n   \r\n !keep.log \r\n");
        Assert.Equal(2, rules.Patterns.Count);
        Assert.Equal(new IgnorePattern("keep.log", true, 5), rules.Patterns[1]);
        AssertExcluded(rules, "a.log");
        AssertIncluded(rules, "keep.log");
    }

    [Fact]
    public void Hash_only_starts_a_comment_in_the_first_column()
    {
        var rules = Rules(" #notacomment");
        AssertExcluded(rules, "#notacomment");
    }

    [Fact]
    public void Character_classes_and_escapes()
    {
        var rules = Rules("file[0-9].txt", "[^a]x", "lit\\*", "[\\]]y");
        AssertExcluded(rules, "file3.txt", "bx", "lit*", "]y");
        AssertIncluded(rules, "filea.txt", "ax", "litx");
    }

    [Fact]
    public void Star_and_question_mark_stop_at_slashes()
    {
        var rules = Rules("a*b", "c?d");
        AssertExcluded(rules, "axxb", "cxd");
        AssertIncluded(rules, "ax/b", "c/d");
    }

    [Fact]
    public void Double_star_forms_follow_patternmatcher()
    {
        AssertExcluded(Rules("a/**/b"), "a/b", "a/x/b", "a/x/y/b");
        AssertIncluded(Rules("a/**/b"), "a/xb");
        // trailing ** is a prefix test: the directory's contents, not the directory itself
        AssertExcluded(Rules("dir/**"), "dir/x", "dir/x/y");
        AssertIncluded(Rules("dir/**"), "dir", "dirx");
        // leading ** followed by plain text is a suffix test
        AssertExcluded(Rules("**.pyc"), "x.pyc", "a/b/x.pyc");
        AssertExcluded(Rules("**/foo"), "foo", "a/foo", "a/b/foo/c");
        AssertIncluded(Rules("**/foo"), "xfoo");
        AssertExcluded(Rules("**"), "anything", "a/b");
    }

    [Fact]
    public void Unicode_names_match_by_character()
    {
        var rules = Rules("한?어", "é*");
        AssertExcluded(rules, "한국어", "été");
    }

    [Fact]
    public void The_context_root_is_never_excluded()
    {
        var rules = Rules("*", "**");
        AssertIncluded(rules, ".", "", "./");
        AssertExcluded(rules, "x");
    }

    [Fact]
    public void Paths_are_cleaned_before_matching()
    {
        var rules = Rules("a/b");
        AssertExcluded(rules, "./a/b", "a//b", "a/b/", "a/c/../b");
    }

    [Theory]
    [InlineData("!", 1, "\"!\" must be followed by a pattern")]
    [InlineData("ok\n!  ", 2, "\"!\" must be followed by a pattern")]
    [InlineData("ok\n# c\n!/", 3, "\"!\" must be followed by a pattern")]
    [InlineData("[abc", 1, "syntax error in pattern: '[' without a matching ']'")]
    [InlineData("[]", 1, "syntax error in pattern: unescaped ']' in a character class")]
    [InlineData("[z-a]", 1, "syntax error in pattern: range z-a is backwards")]
    [InlineData("trailing\\", 1, "syntax error in pattern: it ends with an escape '\\'")]
    public void Invalid_patterns_name_their_line(string text, int line, string reason)
    {
        var error = Assert.Throws<IgnorePatternException>(() => IgnorePatterns.Parse(text));
        Assert.Equal(line, error.LineNumber);
        Assert.Equal(reason, error.Reason);
        Assert.StartsWith($".dockerignore:{line}: invalid pattern", error.Message);
        Assert.IsAssignableFrom<FormatException>(error);
    }

    [Fact]
    public void Without_exceptions_no_excluded_directory_needs_a_visit()
    {
        var rules = Rules("docs", "*.md");
        Assert.False(rules.HasExceptions);
        Assert.False(rules.MayContainIncluded("docs"));
    }

    [Theory]
    [InlineData("!docs/README.md", "docs", true)]
    [InlineData("!docs/README.md", "docs/api", false)]
    [InlineData("!docs/README.md", "doc", false)]
    [InlineData("!docs/README.md", "other", false)]
    [InlineData("!**/*.md", "anything/deep", true)]
    [InlineData("!*/keep", "a", true)]
    [InlineData("!*/keep", "a/b", false)]
    [InlineData("!keep**", "keepers", true)]
    [InlineData("!keep**", "other", false)]
    [InlineData("!a/**/keep", "a/x/y", true)]
    [InlineData("!a/**/keep", "b", false)]
    [InlineData("!a", "a/b/c", true)] // an exception matching an ancestor re-includes everything below
    [InlineData("![a-c]/x", "b", true)]
    [InlineData("![a-c]/x", "d", false)]
    public void Excluded_directory_is_visited_only_if_an_exception_could_reach_inside(string exception, string dir, bool visit)
    {
        var rules = Rules("*", exception);
        Assert.Equal(visit, rules.MayContainIncluded(dir));
    }

    [Fact]
    public void MayContainIncluded_agrees_with_IsExcluded_on_a_sample_tree()
    {
        // Whenever a file below an excluded directory is included, the directory must be reported as worth visiting.
        string[] tree = ["docs/a.md", "docs/README.md", "docs/api/x.md", "src/a.go", "src/vendor/b.go", "build/out/README.md", "x/y/z/keep"];
        string[][] ruleSets =
        [
            ["docs", "!docs/README.md"],
            ["*", "!**/README.md"],
            ["**/*.md", "!docs/*.md", "docs/api"],
            ["src", "!src/vendor", "x", "!x/*/*/keep"],
            ["*", "!*/keep", "!x/**"],
        ];
        foreach (var lines in ruleSets)
        {
            var rules = Rules(lines);
            foreach (var file in tree.Where(f => !rules.IsExcluded(f)))
            {
                var parts = file.Split('/');
                for (var depth = 1; depth < parts.Length; depth++)
                {
                    var dir = string.Join('/', parts[..depth]);
                    if (rules.IsExcluded(dir))
                        Assert.True(rules.MayContainIncluded(dir), $"[{string.Join(", ", lines)}]: {dir} hides included {file}");
                }
            }
        }
    }
}
