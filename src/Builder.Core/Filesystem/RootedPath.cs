namespace Builder.Core.Filesystem;

/// <summary>
/// Resolves untrusted paths inside a root directory, the way a process chrooted there would see
/// them, without ever leaving the root: symlinks are followed one component at a time, an
/// absolute link target starts again at the root, and <c>..</c> stops at the root (the semantics
/// of Go's securejoin and openat2's RESOLVE_IN_ROOT).
/// <para>
/// The answer is a host path, so it is only as good as the tree is still: use it on trees no
/// untrusted process is changing at the same time (a layer being unpacked, a stopped container's
/// rootfs), which is every use in the engine.
/// </para>
/// </summary>
public static class RootedPath
{
    // Linux gives up after 40 links in one lookup; so do we, so a link loop fails as ELOOP would.
    private const int MaxSymlinks = 40;

    /// <summary>
    /// The host path that <paramref name="unsafePath"/> names inside <paramref name="root"/>, with
    /// every symlink followed, the last component included. Components that do not exist are kept
    /// as written, so the result may name something to be created.
    /// </summary>
    public static string Resolve(string root, string unsafePath)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var resolved = new List<string>();
        var pending = new Stack<string>(SplitComponents(unsafePath).Reverse());
        var linksFollowed = 0;

        while (pending.TryPop(out var component))
        {
            if (component == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = Join(root, resolved, component);
            if (!Native.TryLStat(candidate, out var status) || !status.IsSymlink)
            {
                resolved.Add(component);
                continue;
            }

            if (++linksFollowed > MaxSymlinks)
                throw new IOException($"too many levels of symbolic links resolving {unsafePath} in {root}");

            // The link's target replaces this component; an absolute one starts over at the root.
            var target = Native.ReadLink(candidate);
            if (target.StartsWith('/')) resolved.Clear();
            foreach (var part in SplitComponents(target).Reverse())
                pending.Push(part);
        }

        return resolved.Count == 0 ? root : Join(root, resolved, null);
    }

    /// <summary>
    /// Resolves everything but the last component of <paramref name="unsafePath"/>, so the caller
    /// can create, replace or remove the last component itself without following it.
    /// </summary>
    /// <exception cref="ArgumentException">the path has no last component to act on (it is the root, or ends in <c>.</c> or <c>..</c>).</exception>
    public static RootedParent ResolveParent(string root, string unsafePath)
    {
        var trimmed = unsafePath.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var name = trimmed[(slash + 1)..];
        if (name is "" or "." or "..")
            throw new ArgumentException($"path {unsafePath} has no last component to create inside its root");
        var parent = slash < 0 ? "" : trimmed[..slash];
        return new RootedParent(Resolve(root, parent), name);
    }

    private static IEnumerable<string> SplitComponents(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".");

    private static string Join(string root, List<string> components, string? last)
    {
        var parts = new List<string>(components.Count + 2) { root };
        parts.AddRange(components);
        if (last is not null) parts.Add(last);
        return string.Join('/', parts);
    }
}

/// <summary>A resolved parent directory on the host and the last component, still unresolved.</summary>
public sealed record RootedParent(string Directory, string Name)
{
    /// <summary>The host path of the last component itself (not followed if it is a symlink).</summary>
    public string FullPath => Directory + "/" + Name;
}
