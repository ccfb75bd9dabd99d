using Builder.Core.Context;
using Builder.Core.Filesystem;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Finds the source paths of a COPY inside its source root: the path cleaned and clamped at the
/// root (<c>../x</c> means <c>x</c>, as BuildKit treats it), and wildcards matched component by
/// component with Go's filepath.Match rules, in sorted order.
/// </summary>
internal static class SourceMatcher
{
    public static bool HasWildcard(string path) => path.IndexOfAny(['*', '?', '[']) >= 0;

    /// <summary>"/"-rooted, no ".", "..", or empty components.</summary>
    public static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    public static IReadOnlyList<string> Find(string root, string source, bool allowWildcard)
    {
        var clean = Clean(source);
        if (!allowWildcard || !HasWildcard(clean))
            return Native.TryLStat(RootedPath.Resolve(root, clean), out _) ? [clean] : [];

        var matches = new List<string> { "" };
        foreach (var component in clean.Split('/', StringSplitOptions.RemoveEmptyEntries))
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
                // One component never holds '/', so the .dockerignore glob is Go's filepath.Match here.
                var glob = CompileComponent(component, source);
                next.AddRange(new DirectoryInfo(dir).EnumerateFileSystemInfos()
                    .Select(i => i.Name)
                    .Where(glob.Matches)
                    .Order(StringComparer.Ordinal)
                    .Select(name => $"{prefix}/{name}"));
            }
            matches = next;
        }
        return matches.Where(m => Native.TryLStat(RootedPath.Resolve(root, m), out _)).ToList();
    }

    private static IgnoreGlob CompileComponent(string component, string source)
    {
        try { return IgnoreGlob.Compile(component); }
        catch (FormatException e) { throw new FileActionException($"invalid source pattern \"{source}\": {e.Message}"); }
    }
}
