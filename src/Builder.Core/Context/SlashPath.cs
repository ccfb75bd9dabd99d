namespace Builder.Core.Context;

/// <summary>Lexical operations on slash-separated paths, as Go's <c>path</c> package does them.</summary>
internal static class SlashPath
{
    /// <summary>
    /// The shortest equivalent path (Go's path.Clean): repeated slashes collapse, <c>.</c> elements go,
    /// <c>x/..</c> pairs cancel, <c>..</c> at the root is dropped, a trailing slash is removed, and an empty
    /// result is <c>.</c>. Nothing on disk is consulted.
    /// </summary>
    public static string Clean(string path)
    {
        if (path == "")
            return ".";

        var rooted = path[0] == '/';
        var kept = new List<string>();
        foreach (var element in path.Split('/'))
        {
            if (element is "" or ".")
                continue;
            if (element == ".." && kept.Count > 0 && kept[^1] != "..")
                kept.RemoveAt(kept.Count - 1);
            else if (element != ".." || !rooted)
                kept.Add(element);
        }

        var joined = string.Join('/', kept);
        if (rooted)
            return "/" + joined;
        return joined == "" ? "." : joined;
    }
}
