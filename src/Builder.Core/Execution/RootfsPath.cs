namespace Builder.Core.Execution;

/// <summary>
/// Turns a path as the sandboxed process would see it ("/etc/passwd") into a host path inside the
/// rootfs, following symlinks the way the kernel would after a chroot: component by component,
/// absolute targets restart at the rootfs and ".." stops at it. The rootfs is untrusted (it comes
/// from an image), so a link like /etc/passwd -> /../../host/etc/passwd must never lead out.
/// </summary>
internal static class RootfsPath
{
    // Linux gives up after 40 nested links (ELOOP); any real image stays far below this.
    private const int MaxLinksFollowed = 255;

    public static string Resolve(string rootfs, string path)
    {
        var root = Path.GetFullPath(rootfs);
        var resolved = new List<string>();
        var pending = new Stack<string>(Split(path).Reverse());
        var linksFollowed = 0;

        while (pending.TryPop(out var component))
        {
            if (component == "..")
            {
                if (resolved.Count > 0)
                    resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = Join(root, resolved, component);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                // A plain file, a directory, or nothing yet: all stay where they are.
                resolved.Add(component);
                continue;
            }

            if (++linksFollowed > MaxLinksFollowed)
                throw new ExecutionException($"too many levels of symbolic links resolving {path} in the rootfs");
            if (target.StartsWith('/'))
                resolved.Clear();
            foreach (var part in Split(target).Reverse())
                pending.Push(part);
        }

        return Join(root, resolved, null);
    }

    private static IEnumerable<string> Split(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(part => part != ".");

    private static string Join(string root, List<string> components, string? last)
    {
        var parts = last is null ? components : [.. components, last];
        return parts.Count == 0 ? root : Path.Combine([root, .. parts]);
    }
}
