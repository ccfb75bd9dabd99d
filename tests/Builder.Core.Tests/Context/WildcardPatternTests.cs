using Builder.Core.Context;

namespace Builder.Core.Tests.Context;

/// <summary>Cases from Go's filepath.Match tests that apply to one path component.</summary>
public sealed class WildcardPatternTests
{
    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("*", "abc", true)]
    [InlineData("*c", "abc", true)]
    [InlineData("a*", "a", true)]
    [InlineData("a*", "abc", true)]
    [InlineData("a*b*c*d*e*", "axbxcxdxexxx", true)]
    [InlineData("ab[c]", "abc", true)]
    [InlineData("ab[b-d]", "abc", true)]
    [InlineData("ab[e-g]", "abc", false)]
    [InlineData("ab[^c]", "abc", false)]
    [InlineData("ab[^b-d]", "abc", false)]
    [InlineData("ab[^e-g]", "abc", true)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "ab", false)]
    [InlineData("a?b", "a☺b", true)]
    [InlineData("a[^a]b", "a☺b", true)]
    [InlineData("a???b", "a☺b", false)]
    [InlineData("[a-ζ]*", "α", true)]
    [InlineData("*[a-ζ]", "A", false)]
    [InlineData("[\\]a]", "]", true)]
    [InlineData("[\\-]", "-", true)]
    [InlineData("[x\\-]", "x", true)]
    [InlineData("[x\\-]", "-", true)]
    [InlineData("[x\\-]", "z", false)]
    [InlineData("[\\-x]", "a", false)]
    [InlineData("*x", "xxx", true)]
    [InlineData("?", "", false)]
    [InlineData("*", "", true)]
    public void Matches_like_go(string pattern, string name, bool matches)
    {
        Assert.Equal(matches, WildcardPattern.IsMatch(pattern, name));
    }

    [Theory]
    [InlineData("[]a]")]
    [InlineData("[-]")]
    [InlineData("[x-]")]
    [InlineData("[-x]")]
    [InlineData("\\")]
    [InlineData("[a-b-c]")]
    [InlineData("[")]
    [InlineData("[^")]
    [InlineData("[^bc")]
    [InlineData("a[")]
    [InlineData("x*[")]
    public void Rejects_bad_patterns_like_go(string pattern)
    {
        var error = Assert.Throws<FormatException>(() => WildcardPattern.IsMatch(pattern, "a"));
        Assert.Contains(pattern, error.Message);
    }

    [Theory]
    [InlineData("plain.txt", false)]
    [InlineData("*.txt", true)]
    [InlineData("a?", true)]
    [InlineData("[ab]", true)]
    [InlineData("a\\b", true)]
    public void Knows_which_patterns_are_wildcards(string pattern, bool isWildcard)
    {
        Assert.Equal(isWildcard, WildcardPattern.ContainsWildcard(pattern));
    }
}
