using Builder.Core.Execution;
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

    public Task ApplyAsync(FileAction action, Func<int, string> sourceRoot, CancellationToken ct) => action switch
    {
        CopyAction copy => CopyAsync(copy, sourceRoot(copy.SourceInput), ct),
        MkdirAction mkdir => Task.Run(() => Mkdir(mkdir), ct),
        MkfileAction mkfile => MkfileAsync(mkfile, ct),
        RmAction rm => Task.Run(() => Remove(rm), ct),
        SymlinkAction symlink => Task.Run(() => Symlink(symlink), ct),
        _ => throw new NotSupportedException($"file action {action.GetType().Name}"),
    };

    private async Task CopyAsync(CopyAction copy, string sourceRoot, CancellationToken ct)
    {
        var sources = SourceMatcher.Find(sourceRoot, copy.Source, copy.Options.AllowWildcard);
        if (sources.Count == 0)
        {
            if (copy.Options.AllowWildcard && SourceMatcher.HasWildcard(copy.Source) && copy.Options.AllowEmptyWildcard) return;
            throw new FileActionException($"\"{SourceMatcher.Clean(copy.Source)}\": not found");
        }

        var owner = copy.Options.Chown is { } chown ? ResolveOwner(chown) : ((uint, uint)?)null;
        var copier = new TreeCopier(owner, copy.Options.Mode, copy.Options.Timestamp);
        var destination = copy.Destination;
        var intoDirectory = destination.EndsWith('/') || sources.Count > 1 || IsDirectory(destination);
        foreach (var source in sources)
        {
            ct.ThrowIfCancellationRequested();
            var hostSource = copy.Options.FollowSymlinks
                ? RootedPath.Resolve(sourceRoot, source)
                : RootedPath.ResolveParent(sourceRoot, source).FullPath;
            if (!Native.TryLStat(hostSource, out var status))
                throw new FileActionException($"\"{source}\": not found");

            if (copy.Options.AttemptUnpack && status.IsRegularFile && ArchiveDetector.IsArchive(hostSource))
                throw new FileActionException($"ADD of the archive \"{source}\": extracting archives is not supported yet");

            if (status.IsDirectory && copy.Options.DirContentsOnly)
            {
                var targetDir = EnsureDirectory(destination, owner);
                await copier.CopyContentsAsync(hostSource, targetDir, ct).ConfigureAwait(false);
                continue;
            }

            var target = intoDirectory ? $"{destination.TrimEnd('/')}/{Path.GetFileName(source.TrimEnd('/'))}" : destination;
            var parent = EnsureDirectory(ParentOf(target), owner);
            await copier.CopyEntryAsync(hostSource, Path.Combine(parent, Path.GetFileName(target.TrimEnd('/'))), ct).ConfigureAwait(false);
        }
    }

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

    /// <summary>Names in COPY --chown and friends are looked up in the destination's own /etc/passwd and /etc/group.</summary>
    private (uint Uid, uint Gid) ResolveOwner(Owner owner)
    {
        // Docker: a user without a group uses the same number as its group id.
        var user = UserResolver.ResolveInRootfs(root, owner.User);
        if (owner.Group is null) return (user.Uid, user.Uid);
        var group = UserResolver.ResolveInRootfs(root, $"{owner.User}:{owner.Group}");
        return (user.Uid, group.Gid);
    }

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

/// <summary>A file action could not be done (a source missing, a file in the way): the user's problem, said plainly.</summary>
public sealed class FileActionException(string message) : Exception(message);
