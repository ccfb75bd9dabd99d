namespace Builder.Core.Context;

/// <summary>
/// Lists a build context: every path the filter keeps, with what <c>lstat</c> says about it.
/// <para>
/// Order: depth first, each directory's entries in ordinal order of their names, a directory
/// right before its contents (so <c>a</c>, <c>a/b</c>, <c>a-c</c>) — the order in which
/// checksums fold up and tar streams are written.
/// </para>
/// <para>
/// Symlinks are reported with their target and never followed, so the walk never leaves the
/// root. Sockets, devices and fifos are reported, never opened. An excluded directory is
/// skipped whole unless the filter says it may hold re-included paths (a later <c>!</c>
/// pattern); then the walk descends, and the directory is reported only if something under it is.
/// </para>
/// </summary>
public sealed class ContextWalker
{
    private static readonly EnumerationOptions AllEntries = new()
    {
        // The defaults skip "hidden" names, which on Unix means every dotfile.
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private readonly string _root;
    private readonly IPathFilter _filter;

    public ContextWalker(string root, IPathFilter filter)
    {
        _root = Path.GetFullPath(root);
        _filter = filter;
    }

    public string Root => _root;

    /// <summary>Everything in the context, root itself excluded.</summary>
    public IEnumerable<ContextEntry> Walk(CancellationToken ct = default) => WalkUnder("", ct);

    /// <summary>
    /// Everything below <paramref name="relativeDirectory"/> (not the directory itself), filtered
    /// as in a whole walk. The caller decides whether the directory itself is in the context.
    /// </summary>
    public IEnumerable<ContextEntry> WalkUnder(string relativeDirectory, CancellationToken ct = default) =>
        WalkChildren(relativeDirectory, unreportedParents: [], ct);

    /// <summary>The entry at <paramref name="relativePath"/> (not followed if a link), or null if nothing is there.</summary>
    public ContextEntry? Entry(string relativePath)
    {
        var absolute = AbsolutePath(relativePath);
        if (FileStatus.Lstat(absolute) is not { } status) return null;
        var linkTarget = status.Type == EntryType.Symlink ? new FileInfo(absolute).LinkTarget : null;
        return new ContextEntry(relativePath, status, linkTarget);
    }

    /// <summary>The names in a directory, ordinal order; empty if it vanished.</summary>
    public IReadOnlyList<string> ChildNames(string relativeDirectory)
    {
        try
        {
            var names = Directory.EnumerateFileSystemEntries(AbsolutePath(relativeDirectory), "*", AllEntries)
                .Select(path => Path.GetFileName(path))
                .ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    public string AbsolutePath(string relativePath) =>
        relativePath.Length == 0 ? _root : Path.Join(_root, relativePath);

    public static string Join(string relativeDirectory, string name) =>
        relativeDirectory.Length == 0 ? name : $"{relativeDirectory}/{name}";

    /// <param name="unreportedParents">
    /// Excluded directories being searched for re-included paths, outermost first: reported
    /// (and cleared) as soon as something under them is.
    /// </param>
    private IEnumerable<ContextEntry> WalkChildren(string relativeDirectory, List<ContextEntry> unreportedParents, CancellationToken ct)
    {
        foreach (var name in ChildNames(relativeDirectory))
        {
            ct.ThrowIfCancellationRequested();
            var path = Join(relativeDirectory, name);
            // Deleted while we walked: it is simply not part of this context.
            if (Entry(path) is not { } entry) continue;

            var excluded = _filter.IsExcluded(path);
            if (!excluded)
            {
                foreach (var parent in unreportedParents) yield return parent;
                unreportedParents.Clear();
                yield return entry;
            }

            if (entry.Type != EntryType.Directory) continue;
            if (!excluded)
            {
                foreach (var below in WalkChildren(path, unreportedParents, ct)) yield return below;
            }
            else if (_filter.MayContainIncluded(path))
            {
                unreportedParents.Add(entry);
                foreach (var below in WalkChildren(path, unreportedParents, ct)) yield return below;
                unreportedParents.Remove(entry);
            }
        }
    }
}
