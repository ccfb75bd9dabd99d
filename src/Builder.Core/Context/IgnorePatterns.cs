namespace Builder.Core.Context;

/// <summary>One pattern of a .dockerignore file, cleaned.</summary>
/// <param name="Pattern">The cleaned pattern without its <c>!</c>, e.g. <c>docs/*.md</c>.</param>
/// <param name="IsException">True for <c>!pattern</c>: paths it matches are included again.</param>
/// <param name="LineNumber">1-based line in the file it came from.</param>
public sealed record IgnorePattern(string Pattern, bool IsException, int LineNumber);

/// <summary>
/// The rules of a .dockerignore file, with Docker's semantics (moby/patternmatcher and its ignorefile
/// reader): which paths of the build context are left out.
/// <list type="bullet">
/// <item>Lines are trimmed; lines starting with <c>#</c> (in the first column) and blank lines are skipped.</item>
/// <item>Patterns are cleaned like Go's filepath.Clean (<c>./a//b/</c> → <c>a/b</c>, <c>a/../b</c> → <c>b</c>)
///   and a leading <c>/</c> is dropped: patterns are always relative to the context root.</item>
/// <item>A path is excluded when it, or one of its parent directories, matches a pattern; <c>!pattern</c>
///   lines re-include, and the last pattern that matches decides.</item>
/// </list>
/// The Dockerfile and the .dockerignore file are ordinary context files here: if a pattern excludes them,
/// <c>COPY . .</c> does not copy them. The frontend reads the Dockerfile on its own, as BuildKit does, so
/// ignoring it never breaks the build.
/// </summary>
public sealed class IgnorePatterns : IPathFilter
{
    public static readonly IgnorePatterns None = new([]);

    /// <summary>Each pattern with its compiled form, in file order.</summary>
    private readonly IReadOnlyList<(IgnorePattern Pattern, IgnoreGlob Glob)> _rules;

    private IgnorePatterns(IReadOnlyList<(IgnorePattern Pattern, IgnoreGlob Glob)> rules)
    {
        _rules = rules;
        Patterns = rules.Select(r => r.Pattern).ToList();
        HasExceptions = Patterns.Any(p => p.IsException);
    }

    /// <summary>The patterns in file order (comments and blank lines left out).</summary>
    public IReadOnlyList<IgnorePattern> Patterns { get; }

    /// <summary>Whether any <c>!</c> pattern exists; without one, an excluded directory can be skipped whole.</summary>
    public bool HasExceptions { get; }

    /// <summary>Reads the text of a .dockerignore file.</summary>
    /// <exception cref="IgnorePatternException">A line is not a valid pattern; the message names the line.</exception>
    public static IgnorePatterns Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rules = new List<(IgnorePattern, IgnoreGlob)>();
        var withoutBom = text.StartsWith('\uFEFF') ? text[1..] : text;
        var lines = withoutBom.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var rule = ParseLine(lines[index], index + 1);
            if (rule is not null)
                rules.Add(rule.Value);
        }
        return new IgnorePatterns(rules);
    }

    /// <summary>
    /// Whether <paramref name="relativePath"/> (slash-separated, relative to the context root) is left out
    /// of the context: because it matches, or because a parent directory matches, and no later <c>!</c>
    /// pattern takes it back. The context root itself is never excluded.
    /// </summary>
    public bool IsExcluded(string relativePath)
    {
        var path = SlashPath.Clean(relativePath);
        if (path == ".")
            return false;

        var ancestors = AncestorsOf(path);
        var excluded = false;
        foreach (var (pattern, glob) in _rules)
        {
            // An exclusion cannot change an excluded path, nor an exception an included one.
            if (pattern.IsException != excluded)
                continue;
            if (glob.Matches(path) || ancestors.Any(glob.Matches))
                excluded = !pattern.IsException;
        }
        return excluded;
    }

    /// <summary>
    /// Whether a walker that finds the directory <paramref name="relativeDir"/> excluded must still look inside
    /// it, because an exception (<c>!pattern</c>) could take back something below it — as <c>!docs/README.md</c>
    /// does for an excluded <c>docs</c>. False means the directory can be skipped whole. The answer errs
    /// towards true: a walker that descends needlessly still checks every entry with <see cref="IsExcluded"/>.
    /// </summary>
    public bool MayContainIncluded(string relativeDir)
    {
        if (!HasExceptions)
            return false;
        var dir = SlashPath.Clean(relativeDir);
        if (dir == ".")
            return true;

        var below = dir + "/";
        var dirAndAncestors = AncestorsOf(dir).Append(dir).ToList();
        return _rules.Any(rule => rule.Pattern.IsException
            && (rule.Glob.CouldMatchSomethingStartingWith(below) || dirAndAncestors.Any(rule.Glob.Matches)));
    }

    private static (IgnorePattern, IgnoreGlob)? ParseLine(string rawLine, int lineNumber)
    {
        if (rawLine.StartsWith('#'))
            return null;
        var line = rawLine.Trim();
        if (line == "")
            return null;

        var isException = line[0] == '!';
        var pattern = isException ? line[1..].Trim() : line;
        if (pattern == "")
            throw new IgnorePatternException(lineNumber, line, "\"!\" must be followed by a pattern");

        pattern = SlashPath.Clean(pattern);
        if (isException && pattern == "/")
            throw new IgnorePatternException(lineNumber, line, "\"!\" must be followed by a pattern"); // Docker cleans "!/" to "!"
        if (pattern.Length > 1 && pattern[0] == '/')
            pattern = pattern[1..];

        try
        {
            return (new IgnorePattern(pattern, isException, lineNumber), IgnoreGlob.Compile(pattern));
        }
        catch (FormatException invalid)
        {
            throw new IgnorePatternException(lineNumber, line, invalid.Message);
        }
    }

    /// <summary>"a/b/c" → "a", "a/b".</summary>
    private static List<string> AncestorsOf(string path)
    {
        var ancestors = new List<string>();
        for (var slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
            ancestors.Add(path[..slash]);
        return ancestors;
    }
}
