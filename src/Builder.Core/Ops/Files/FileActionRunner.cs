using Builder.Core.Context;
using Builder.Core.Filesystem;
using Builder.Core.Graph;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Applies file actions to one root directory (a mounted, writable snapshot). Every path is
/// resolved inside that root — symlinks in the image are followed as the image would see them,
/// never out of it — and the last component is created or replaced, never written through.
/// </summary>
public sealed class FileActionRunner(string root)
{
    private const int DirectoryMode = 0x1ED; // 0755

    public Task ApplyAsync(FileAction action, Func<int, CopySourceRoot> sourceRoot, CancellationToken ct) => action switch
    {
        CopyAction copy => CopyAsync(copy, sourceRoot(copy.SourceInput), ct),
        MkdirAction mkdir => Task.Run(() => Mkdir(mkdir), ct),
        MkfileAction mkfile => MkfileAsync(mkfile, ct),
        RmAction rm => Task.Run(() => Remove(rm), ct),
        SymlinkAction symlink => Task.Run(() => Symlink(symlink), ct),
        _ => throw new NotSupportedException($"file action {action.GetType().Name}"),
    };

    /// <summary>Convenience for sources without a filter.</summary>
    public Task ApplyAsync(FileAction action, Func<int, string> sourceRoot, CancellationToken ct) =>
        ApplyAsync(action, i => new CopySourceRoot(sourceRoot(i), IncludeEverything.Instance), ct);

    private async Task CopyAsync(CopyAction copy, CopySourceRoot from, CancellationToken ct)
    {
        var options = copy.Options;
        var (pattern, keepFrom) = SplitParentsMarker(copy.Source, options.IncludeParents);
        var excludes = options.Excludes.IsDefaultOrEmpty ? (IPathFilter)IncludeEverything.Instance : IgnorePatterns.Parse(string.Join('\n', options.Excludes));
        // What .dockerignore leaves out of the context is not there for COPY to find.
        var sources = SourceMatcher.Find(from.Root, pattern, options.AllowWildcard)
            .Where(s => s == "/" || !from.Filter.IsExcluded(s.TrimStart('/')))
            .Where(s => s == "/" || !excludes.IsExcluded(s.TrimStart('/')))
            .ToList();
        if (sources.Count == 0)
        {
            if (options.AllowWildcard && SourceMatcher.HasWildcard(pattern) && options.AllowEmptyWildcard) return;
            throw new FileActionException($"\"{SourceMatcher.Clean(pattern)}\": not found");
        }

        var owner = options.Chown is { } chown ? ChownResolver.Resolve(root, chown) : ((uint, uint)?)null;
        var parentMode = options.Mode ?? DirectoryMode;
        var copier = new TreeCopier(owner, options.Mode, options.Timestamp, from.Filter, excludes);
        foreach (var source in sources)
        {
            ct.ThrowIfCancellationRequested();
            var hostSource = options.FollowSymlinks
                ? RootedPath.Resolve(from.Root, source)
                : source == "/" ? from.Root : RootedPath.ResolveParent(from.Root, source).FullPath;
            if (!Native.TryLStat(hostSource, out var status))
                throw new FileActionException($"\"{source}\": not found");

            // --parents keeps the source's path (below a "/./" marker, if any) under the destination.
            var destination = copy.Destination;
            var intoDirectory = destination.EndsWith('/') || sources.Count > 1 || IsDirectory(destination);
            if (options.IncludeParents)
            {
                var kept = KeptPath(source, keepFrom);
                var keptParent = ParentOf("/" + kept);
                destination = $"{destination.TrimEnd('/')}{(keptParent == "/" ? "" : keptParent)}/";
                intoDirectory = true;
                if (status.IsDirectory && kept.Length > 0) destination = $"{copy.Destination.TrimEnd('/')}/{kept}/";
            }

            if (options.AttemptUnpack && status.IsRegularFile && await TryExtractAsync(hostSource, source, destination, options.ExtractChown is { } extractOwner ? ChownResolver.Resolve(root, extractOwner) : null, options.Mode, ct).ConfigureAwait(false))
                continue;

            if (status.IsDirectory && options.DirContentsOnly)
            {
                var created = !IsDirectory(destination);
                var targetDir = EnsureDirectory(destination, owner, parentMode);
                if (created)
                    ApplyMetadata(targetDir, owner ?? (status.Uid, status.Gid), options.Mode ?? (int)status.Permissions,
                        options.Timestamp is { } t ? (t, 0) : (status.ModifiedSeconds, status.ModifiedNanoseconds), isSymlink: false);
                await copier.CopyContentsAsync(hostSource, targetDir, source.TrimStart('/'), "", ct).ConfigureAwait(false);
                continue;
            }

            var target = intoDirectory ? $"{destination.TrimEnd('/')}/{Path.GetFileName(source.TrimEnd('/'))}" : destination;
            var parent = EnsureDirectory(ParentOf(target), owner, parentMode);
            await copier.CopyEntryAsync(hostSource, Path.Combine(parent, Path.GetFileName(target.TrimEnd('/'))), source.TrimStart('/'), "", ct).ConfigureAwait(false);
        }
    }

    /// <summary>ADD of a local tar (plain or compressed): extracted into the destination directory. False when the file is no archive.</summary>
    private async Task<bool> TryExtractAsync(string hostSource, string source, string destination, (uint, uint)? owner, int? mode, CancellationToken ct)
    {
        if (!ArchiveDetector.IsArchive(hostSource)) return false;

        var targetDir = EnsureDirectory(destination, owner);
        await using var tar = ArchiveDetector.OpenTar(hostSource)!;
        await new ArchiveExtractor(root, owner, mode).ExtractAsync(tar, source, RootPathOf(destination), ct).ConfigureAwait(false);
        _ = targetDir;
        return true;
    }

    /// <summary>The pattern to match and, for --parents, the cleaned prefix before the first "/./" marker (whose path is not kept).</summary>
    private static (string Pattern, string? KeepFrom) SplitParentsMarker(string source, bool includeParents)
    {
        if (!includeParents) return (source, null);
        var normalized = source.StartsWith("./", StringComparison.Ordinal) ? source[2..] : source;
        var marker = normalized.IndexOf("/./", StringComparison.Ordinal);
        if (marker < 0) return (source, null);
        return (normalized.Remove(marker, 2), SourceMatcher.Clean(normalized[..marker]));
    }

    private static string KeptPath(string matched, string? keepFrom)
    {
        var path = matched.TrimStart('/');
        if (keepFrom is null || keepFrom == "/") return path;
        var prefix = keepFrom.TrimStart('/');
        return path.StartsWith(prefix + "/", StringComparison.Ordinal) ? path[(prefix.Length + 1)..] : path == prefix ? "" : path;
    }

    private static string RootPathOf(string path) => "/" + path.Trim('/');

    private void Mkdir(MkdirAction mkdir)
    {
        var owner = mkdir.Owner is { } o ? ResolveOwner(o) : ((uint, uint)?)null;
        if (mkdir.MakeParents)
        {
            EnsureDirectory(mkdir.Path, owner, mkdir.Mode, mkdir.Timestamp);
            return;
        }
        var target = RootedPath.ResolveParent(root, mkdir.Path).FullPath;
        if (Native.TryLStat(target, out var existing))
        {
            if (existing.IsDirectory) return;
            throw new FileActionException($"mkdir {mkdir.Path}: a file is in the way");
        }
        CreateDirectory(target, owner, mkdir.Mode, mkdir.Timestamp);
    }

    private async Task MkfileAsync(MkfileAction mkfile, CancellationToken ct)
    {
        var owner = mkfile.Owner is { } o ? ResolveOwner(o) : ((uint, uint)?)null;
        var parent = EnsureDirectory(ParentOf(mkfile.Path), owner);
        var target = Path.Combine(parent, Path.GetFileName(mkfile.Path));
        RemoveExisting(target);
        await File.WriteAllTextAsync(target, mkfile.Data, ct).ConfigureAwait(false);
        ApplyMetadata(target, owner ?? (0, 0), mkfile.Mode, mkfile.Timestamp, isSymlink: false);
    }

    private void Remove(RmAction rm)
    {
        var targets = rm.AllowWildcard ? SourceMatcher.Find(root, rm.Path, allowWildcard: true) : [rm.Path];
        foreach (var path in targets)
        {
            var target = RootedPath.ResolveParent(root, path).FullPath;
            if (!Native.TryLStat(target, out _))
            {
                if (rm.AllowNotFound) continue;
                throw new FileActionException($"rm {path}: not found");
            }
            RemoveExisting(target);
        }
    }

    private void Symlink(SymlinkAction symlink)
    {
        var owner = symlink.Owner is { } o ? ResolveOwner(o) : ((uint, uint)?)null;
        var parent = EnsureDirectory(ParentOf(symlink.LinkPath), owner);
        var link = Path.Combine(parent, Path.GetFileName(symlink.LinkPath.TrimEnd('/')));
        RemoveExisting(link);
        Native.CreateSymlink(symlink.Target, link);
        ApplyMetadata(link, owner ?? (0, 0), mode: null, symlink.Timestamp, isSymlink: true);
    }

    /// <summary>
    /// Makes sure <paramref name="path"/> is a directory inside the root, creating missing
    /// components (0755, owned by <paramref name="owner"/> or root), and returns its host path.
    /// Existing directories are left exactly as they are, so no needless copy-up lands in the layer.
    /// </summary>
    private string EnsureDirectory(string path, (uint Uid, uint Gid)? owner, int mode = DirectoryMode, long? timestamp = null)
    {
        var current = "";
        foreach (var component in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = $"{current}/{component}";
            var host = RootedPath.Resolve(root, current);
            if (Native.TryLStat(host, out var status))
            {
                if (!status.IsDirectory) throw new FileActionException($"cannot create directory {current}: a file is in the way");
                continue;
            }
            CreateDirectory(host, owner, mode, timestamp);
        }
        return RootedPath.Resolve(root, path.Length == 0 ? "/" : path);
    }

    private static void CreateDirectory(string host, (uint Uid, uint Gid)? owner, int mode, long? timestamp)
    {
        Directory.CreateDirectory(host);
        ApplyMetadata(host, owner ?? (0, 0), mode, timestamp, isSymlink: false);
    }

    private bool IsDirectory(string path) =>
        Native.TryLStat(RootedPath.Resolve(root, path), out var status) && status.IsDirectory;

    private (uint Uid, uint Gid) ResolveOwner(Owner owner) => ChownResolver.Resolve(root, owner);

    internal static void ApplyMetadata(string host, (uint Uid, uint Gid) owner, int? mode, long? timestamp, bool isSymlink) =>
        ApplyMetadata(host, owner, mode, timestamp is { } t ? (t, 0) : null, isSymlink);

    internal static void ApplyMetadata(string host, (uint Uid, uint Gid) owner, int? mode, (long Seconds, long Nanoseconds)? mtime, bool isSymlink)
    {
        Native.SetOwner(host, owner.Uid, owner.Gid);
        // chown clears setuid/setgid, so the mode goes on after it; links have no mode of their own.
        if (!isSymlink && mode is { } m) Native.SetMode(host, (uint)m);
        if (mtime is { } t) Native.SetTimes(host, t.Seconds, t.Nanoseconds);
    }

    internal static void RemoveExisting(string host)
    {
        if (!Native.TryLStat(host, out var status)) return;
        if (status.IsDirectory) Directory.Delete(host, recursive: true);
        else File.Delete(host);
    }

    private static string ParentOf(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash <= 0 ? "/" : trimmed[..slash];
    }
}

/// <summary>Where a copy reads from: a root directory and what of it is hidden (the context's .dockerignore).</summary>
public sealed record CopySourceRoot(string Root, IPathFilter Filter);

/// <summary>A file action could not be done (a source missing, a file in the way): the user's problem, said plainly.</summary>
public sealed class FileActionException(string message) : Exception(message);
