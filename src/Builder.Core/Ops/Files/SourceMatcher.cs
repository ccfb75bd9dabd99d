using Builder.Core.Context;
using Builder.Core.Filesystem;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Finds the source paths of a COPY inside its source root: the path cleaned and clamped at the
/// root (<c>../x</c> means <c>x</c>, as BuildKit treats it), and wildcards matched component by
/// component in sorted order — with the same <see cref="ContextPath"/> and <see cref="WildcardPattern"/>
/// rules the context checksum uses, so a COPY's cache key covers exactly the files it copies.
/// </summary>
internal static class SourceMatcher
{
    public static bool HasWildcard(string path) => WildcardPattern.ContainsWildcard(path);

    /// <summary>"/"-rooted, no ".", "..", or empty components.</summary>
    public static string Clean(string path) => "/" + ContextPath.Clean(path);

    public static IReadOnlyList<string> Find(string root, string source, bool allowWildcard)
    {
        var clean = Clean(source);
        if (!allowWildcard || !HasWildcard(clean))
            return Native.TryLStat(RootedPath.Resolve(root, clean), out _) ? [clean] : [];

        var matches = new List<string> { "" };
        foreach (var component in ContextPath.Components(clean))
        {
            var next = new List<string>();
            foreach (var prefix in matches)
            {
                if (!HasWildcard(component))
                {
                    next.Add($"{prefix}/{component}");
                    continue;
                }
                var dir = RootedPath.Resolve(root, prefix.Length == 0 ? "/" : prefix);
                if (!Directory.Exists(dir)) continue;
                next.AddRange(new DirectoryInfo(dir).EnumerateFileSystemInfos()
                    .Select(i => i.Name)
                    .Where(name => IsMatch(component, name, source))
                    .Order(StringComparer.Ordinal)
                    .Select(name => $"{prefix}/{name}"));
            }
            matches = next;
        }
        return matches.Where(m => Native.TryLStat(RootedPath.Resolve(root, m), out _)).ToList();
    }

    private static bool IsMatch(string pattern, string name, string source)
    {
        try { return WildcardPattern.IsMatch(pattern, name); }
        catch (FormatException e) { throw new FileActionException($"invalid source pattern \"{source}\": {e.Message}"); }
    }
}
