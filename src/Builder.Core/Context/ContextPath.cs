namespace Builder.Core.Context;

/// <summary>
/// Source paths of COPY/ADD as BuildKit reads them: relative to the context root and clamped
/// inside it — <c>../x</c> is <c>x</c>, <c>/x</c> is <c>x</c>, <c>.</c> is the root — so no
/// spelling of a path reaches outside the context.
/// </summary>
public static class ContextPath
{
    /// <summary>The clean relative form: '/'-separated, no '.', '..' or empty parts; "" for the root.</summary>
    public static string Clean(string path) => string.Join('/', Components(path));

    public static IReadOnlyList<string> Components(string path)
    {
        var components = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                // At the root, ".." stays at the root, as "/.." does.
                if (components.Count > 0) components.RemoveAt(components.Count - 1);
                continue;
            }
            components.Add(part);
        }
        return components;
    }
}
