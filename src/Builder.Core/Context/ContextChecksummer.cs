using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Builder.Core.Graph;
using Builder.Core.Solver;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Builder.Core.Context;

/// <summary>
/// Checksums of paths in one build context (a root directory seen through a filter), the way
/// COPY sources are keyed: content, types, modes, owners and link targets, never mtimes.
/// <list type="bullet">
/// <item>A file: its header and its bytes' digest (<see cref="EntryDigest"/>).</item>
/// <item>A symlink: its header with the target; never followed, so a link to /etc/passwd is just a link.</item>
/// <item>A directory: its header and each included entry's name and checksum, in name order (a Merkle tree).</item>
/// </list>
/// Paths are clamped inside the root (<see cref="ContextPath"/>); symlinks in the middle of a
/// path are resolved, but inside the root too, never out of it.
/// <para>
/// One instance is one view of the context for one build: checksums it computed are remembered
/// and assumed not to change while the build runs. Safe for concurrent calls.
/// </para>
/// </summary>
public sealed class ContextChecksummer : IContentChecksum
{
    /// <summary>The checksum of a wildcard that matched nothing; the caller decides whether that is an error.</summary>
    public static Digest NoMatch { get; } = Digest.Sha256("builder/context: no path matched");

    /// <summary>Links followed while resolving one path before giving up (BuildKit allows as many).</summary>
    private const int MaxSymlinkHops = 255;

    /// <summary>
    /// Timestamps are coarse (a kernel tick, or a second on some filesystems): a file changed
    /// within this long before it was hashed might change again with the same stat, so it is
    /// not trusted to the stat cache yet (git's "racy clean" problem).
    /// </summary>
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private readonly ContextWalker _walker;
    private readonly IPathFilter _filter;
    private readonly ContextStatCache? _statCache;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Digest> _known = new(StringComparer.Ordinal);
    private long _hashedBytes;

    public ContextChecksummer(string root, IPathFilter filter, ContextStatCache? statCache = null, TimeProvider? time = null)
    {
        _walker = new ContextWalker(root, filter);
        if (statCache is not null && statCache.Root != _walker.Root)
            throw new ArgumentException($"the stat cache is for {statCache.Root}, not {_walker.Root}", nameof(statCache));
        _filter = filter;
        _statCache = statCache;
        _time = time ?? TimeProvider.System;
    }

    public string Root => _walker.Root;

    /// <summary>File bytes read so far: how tests see the stat cache at work.</summary>
    internal long HashedBytes => Interlocked.Read(ref _hashedBytes);

    /// <summary>The checksum of the whole context: the key of a local source.</summary>
    public Task<Digest> RootChecksumAsync(CancellationToken ct) => ChecksumAsync(".", allowWildcard: false, ct);

    public async Task<Digest> ChecksumAsync(string path, bool allowWildcard, CancellationToken ct)
    {
        var clean = ContextPath.Clean(path);
        var digest = allowWildcard && WildcardPattern.ContainsWildcard(clean)
            ? await ChecksumMatchesAsync(clean, ct).ConfigureAwait(false)
            : await TryChecksumAsync(ResolveParents(clean, path), ct).ConfigureAwait(false) ?? throw NotFound(path);
        // One transaction per call: what this call learned survives for the next build.
        if (_statCache is not null) await _statCache.FlushAsync(ct).ConfigureAwait(false);
        return digest;
    }

    /// <summary>
    /// Follows symlinks among the parent directories of <paramref name="cleanPath"/> — within the
    /// root: an absolute target starts again at the root, and ".." stops there — and returns the
    /// path of the last component, itself not followed.
    /// </summary>
    private string ResolveParents(string cleanPath, string asWritten)
    {
        var pending = new Queue<string>(ContextPath.Components(cleanPath));
        var resolved = "";
        var hops = 0;
        while (pending.Count > 1)
        {
            var next = ContextWalker.Join(resolved, pending.Dequeue());
            var entry = _walker.Entry(next) ?? throw NotFound(asWritten);
            switch (entry.Type)
            {
                case EntryType.Directory:
                    resolved = next;
                    break;
                case EntryType.Symlink:
                    if (++hops > MaxSymlinkHops) throw new IOException($"{asWritten}: too many levels of symbolic links");
                    var target = entry.LinkTarget!.StartsWith('/') ? entry.LinkTarget : $"{resolved}/{entry.LinkTarget}";
                    pending = new Queue<string>(ContextPath.Components(target).Concat(pending));
                    resolved = "";
                    break;
                default:
                    throw NotFound(asWritten);
            }
        }
        return pending.Count == 0 ? resolved : ContextWalker.Join(resolved, pending.Dequeue());
    }

    /// <summary>The checksum of what is at <paramref name="relativePath"/>, or null when the context does not hold it.</summary>
    private async Task<Digest?> TryChecksumAsync(string relativePath, CancellationToken ct)
    {
        if (_known.TryGetValue(relativePath, out var known)) return known;
        if (!ParentsAreWalked(relativePath)) return null;
        if (_walker.Entry(relativePath) is not { } entry) return null;

        if (entry.Type == EntryType.Directory) return await ChecksumDirectoryAsync(entry, ct).ConfigureAwait(false);
        if (relativePath.Length > 0 && _filter.IsExcluded(relativePath)) return null;
        return await ChecksumLeafAsync(entry, ct).ConfigureAwait(false);
    }

    /// <summary>Whether a walk of the whole context would get to <paramref name="relativePath"/>'s directory at all.</summary>
    private bool ParentsAreWalked(string relativePath)
    {
        for (var slash = relativePath.IndexOf('/'); slash >= 0; slash = relativePath.IndexOf('/', slash + 1))
        {
            var parent = relativePath[..slash];
            if (_filter.IsExcluded(parent) && !_filter.MayContainIncluded(parent)) return false;
        }
        return true;
    }

    /// <summary>
    /// Folds the walk below <paramref name="directory"/> into checksums, innermost directories
    /// first. Null for an excluded directory with nothing re-included under it.
    /// </summary>
    private async Task<Digest?> ChecksumDirectoryAsync(ContextEntry directory, CancellationToken ct)
    {
        var isExcluded = directory.Path.Length > 0 && _filter.IsExcluded(directory.Path);
        if (isExcluded && !_filter.MayContainIncluded(directory.Path)) return null;

        var open = new Stack<(ContextEntry Entry, EntryDigest.Listing Listing)>();
        open.Push((directory, new EntryDigest.Listing(directory.Status)));
        var anyIncluded = false;
        try
        {
            foreach (var entry in _walker.WalkUnder(directory.Path, ct))
            {
                anyIncluded = true;
                while (!IsBelow(entry.Path, open.Peek().Entry.Path)) CloseInnermost(open);
                if (entry.Type == EntryType.Directory)
                {
                    open.Push((entry, new EntryDigest.Listing(entry.Status)));
                    continue;
                }
                var digest = _known.TryGetValue(entry.Path, out var known) ? known : await ChecksumLeafAsync(entry, ct).ConfigureAwait(false);
                open.Peek().Listing.Add(entry.Name, digest);
            }
            while (open.Count > 1) CloseInnermost(open);
            if (isExcluded && !anyIncluded) return null;
            return Remember(directory.Path, open.Peek().Listing.Finish());
        }
        finally
        {
            foreach (var (_, listing) in open) listing.Dispose();
        }
    }

    private void CloseInnermost(Stack<(ContextEntry Entry, EntryDigest.Listing Listing)> open)
    {
        var (entry, listing) = open.Pop();
        using (listing) open.Peek().Listing.Add(entry.Name, Remember(entry.Path, listing.Finish()));
    }

    private static bool IsBelow(string path, string directory) =>
        directory.Length == 0 || (path.Length > directory.Length && path[directory.Length] == '/' && path.StartsWith(directory, StringComparison.Ordinal));

    private async Task<Digest> ChecksumLeafAsync(ContextEntry entry, CancellationToken ct)
    {
        var digest = entry.Type == EntryType.File
            ? await ChecksumFileAsync(entry, ct).ConfigureAwait(false)
            : EntryDigest.ForOther(entry.Status, entry.LinkTarget);
        return Remember(entry.Path, digest);
    }

    private async Task<Digest> ChecksumFileAsync(ContextEntry entry, CancellationToken ct)
    {
        if (_statCache?.Lookup(entry.Path, entry.Status) is { } cached) return EntryDigest.ForFile(entry.Status, cached);

        var absolute = _walker.AbsolutePath(entry.Path);
        using var file = OpenWithoutFollowing(absolute);
        // The header comes from the file actually opened, so header and bytes always agree.
        var opened = FileStatus.Fstat(file, absolute);
        if (opened.Type != EntryType.File || opened.Inode != entry.Status.Inode)
            throw new IOException($"{entry.Path}: replaced while the build context was being read");

        var content = await HashContentAsync(file, ct).ConfigureAwait(false);
        if (_statCache is not null && FileStatus.Fstat(file, absolute) == opened && !IsRacy(opened))
            _statCache.Remember(entry.Path, opened, content);
        return EntryDigest.ForFile(opened, content);
    }

    /// <summary>Streams the file through SHA-256 in small chunks; files are never held in memory whole.</summary>
    private async Task<Digest> HashContentAsync(SafeFileHandle file, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long offset = 0;
            int read;
            while ((read = await RandomAccess.ReadAsync(file, buffer, offset, ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                offset += read;
                Interlocked.Add(ref _hashedBytes, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Digest.FromSha256Hash(hash.GetHashAndReset());
    }

    /// <summary>
    /// Opens a file the walk saw as a regular file. O_NOFOLLOW: if it was swapped for a symlink
    /// since, the open fails instead of reading whatever the link points at. O_NONBLOCK: if it
    /// was swapped for a fifo, the open does not hang.
    /// </summary>
    private static unsafe SafeFileHandle OpenWithoutFollowing(string absolutePath)
    {
        var path = FileStatus.NullTerminated(absolutePath);
        int fd;
        fixed (byte* pathBytes = path)
            fd = LibC.open(pathBytes, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | LibC.O_NONBLOCK, 0);
        if (fd < 0)
            throw new IOException($"{absolutePath}: cannot open: {new System.ComponentModel.Win32Exception(LibC.errno).Message}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private bool IsRacy(FileStatus status) =>
        status.CtimeNs >= (_time.GetUtcNow() - RacyWindow).ToUnixTimeMilliseconds() * 1_000_000L;

    /// <summary>Wildcard matches, each checksummed; a digest over their paths and checksums in order.</summary>
    private async Task<Digest> ChecksumMatchesAsync(string pattern, CancellationToken ct)
    {
        using var listing = new EntryDigest.Listing();
        var any = false;
        foreach (var match in Expand(pattern))
        {
            if (await TryChecksumAsync(match, ct).ConfigureAwait(false) is not { } digest) continue;
            listing.Add(match, digest);
            any = true;
        }
        return any ? listing.Finish() : NoMatch;
    }

    /// <summary>
    /// The paths matching <paramref name="pattern"/> component by component, in walk order.
    /// Directories along the way must be real directories: links are not followed while matching.
    /// </summary>
    private List<string> Expand(string pattern)
    {
        var components = pattern.Split('/');
        foreach (var component in components) WildcardPattern.Validate(component);

        var matches = new List<string> { "" };
        for (var i = 0; i < components.Length; i++)
        {
            var isLast = i == components.Length - 1;
            var next = new List<string>();
            foreach (var directory in matches)
            {
                foreach (var name in MatchingNames(directory, components[i]))
                {
                    var path = ContextWalker.Join(directory, name);
                    if (_walker.Entry(path) is not { } entry) continue;
                    if (isLast || entry.Type == EntryType.Directory) next.Add(path);
                }
            }
            matches = next;
        }
        return matches;
    }

    private IEnumerable<string> MatchingNames(string directory, string component) =>
        WildcardPattern.ContainsWildcard(component)
            ? _walker.ChildNames(directory).Where(name => WildcardPattern.IsMatch(component, name))
            : [component];

    private Digest Remember(string relativePath, Digest digest)
    {
        _known[relativePath] = digest;
        return digest;
    }

    private static FileNotFoundException NotFound(string asWritten) =>
        new($"\"{asWritten}\": not found in the build context (or excluded by .dockerignore)", asWritten);
}
