using System.Text;
using System.Text.RegularExpressions;
using Builder.Frontends.Dockerfile.Shell;
using CsCheck;

namespace Builder.Frontends.Dockerfile.Tests.Shell;

/// <summary>
/// Checks the hand-written pattern matcher against the construction BuildKit uses: translate the pattern
/// to a regular expression (<c>*</c> → <c>.*</c> or <c>.*?</c>, <c>?</c> → <c>.</c>) and take the leftmost match.
/// .NET's backtracking engine makes the same leftmost-first choices as Go's for these expressions.
/// </summary>
public sealed class ShellPatternPropertyTests
{
    private static readonly Gen<string> Pattern =
        Gen.Int[0, 5].Select(i => new[] { "a", "b", "*", "?", "\\*", "\\?" }[i]).Array[0, 6].Select(parts => string.Concat(parts));

    private static readonly Gen<string> Value = Gen.Char["ab*?"].Array[0, 8].Select(chars => new string(chars));

    [Fact]
    public void TrimPrefix_agrees_with_an_anchored_regex() =>
        Gen.Select(Pattern, Value, Gen.Bool).Sample((pattern, value, greedy) =>
        {
            var match = ToRegex(pattern, greedy, anchored: true).Match(value);
            var expected = match.Success ? value[match.Length..] : value;
            Assert.Equal(expected, ShellPattern.TrimPrefix(pattern, value, greedy));
        });

    [Fact]
    public void ReplaceFirst_agrees_with_the_leftmost_greedy_regex_match() =>
        Gen.Select(Pattern, Value).Sample((pattern, value) =>
        {
            var match = ToRegex(pattern, greedy: true, anchored: false).Match(value);
            var expected = match.Success ? value[..match.Index] + "X" + value[(match.Index + match.Length)..] : value;
            Assert.Equal(expected, ShellPattern.ReplaceFirst(pattern, value, "X"));
        });

    private static Regex ToRegex(string pattern, bool greedy, bool anchored)
    {
        var regex = new StringBuilder(anchored ? "^" : "");
        for (var i = 0; i < pattern.Length; i++)
        {
            regex.Append(pattern[i] switch
            {
                '*' => greedy ? ".*" : ".*?",
                '?' => ".",
                '\\' => Regex.Escape(pattern[++i].ToString()),
                var ch => Regex.Escape(ch.ToString()),
            });
        }
        return new Regex(regex.ToString(), RegexOptions.CultureInvariant);
    }
}
