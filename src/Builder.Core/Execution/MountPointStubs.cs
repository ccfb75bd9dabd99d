using System.Text;
using Builder.Core.Filesystem;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Builder.Core.Execution;

/// <summary>A place in the rootfs something is mounted on.</summary>
internal sealed record MountTarget(string Destination, bool IsFile);

/// <summary>
/// Empty directories and files created in the rootfs only so that runc has something to mount
/// on (/proc, /dev, /sys, /etc/hosts, RUN --mount targets). runc would create them itself, but
/// the rootfs is the snapshot that becomes the layer: a minimal image would then gain /proc, /dev,
/// /sys and /etc in every RUN layer. Like BuildKit, we create what is missing before the run and
/// take it away afterwards; anything the process put there is kept, and the parent directories get
/// their timestamps back so the layer diff does not see them as changed either.
/// </summary>
internal sealed class MountPointStubs
{
    private readonly List<(string Path, bool IsFile)> _created = [];
    private readonly List<(string Path, timespec Atime, timespec Mtime)> _touchedParents = [];

    private MountPointStubs()
    {
    }

    /// <summary>Creates the missing targets; a target beneath an earlier one is mounted over, not created.</summary>
    public static MountPointStubs Create(string rootfs, IEnumerable<MountTarget> targets)
    {
        var stubs = new MountPointStubs();
        var seen = new List<string>();
        try
        {
            foreach (var target in targets)
            {
                if (!seen.Any(earlier => IsBeneath(target.Destination, earlier)))
                    stubs.CreateMissing(RootedPath.Resolve(rootfs, target.Destination), target.IsFile);
                seen.Add(target.Destination);
            }
        }
        catch
        {
            stubs.Remove();
            throw;
        }
        return stubs;
    }

    /// <summary>Removes the stubs that are still empty, newest first, then restores the parents' times.</summary>
    public void Remove()
    {
        for (var i = _created.Count - 1; i >= 0; i--)
            RemoveIfUntouched(_created[i].Path, _created[i].IsFile);
        for (var i = _touchedParents.Count - 1; i >= 0; i--)
            RestoreTimes(_touchedParents[i].Path, _touchedParents[i].Atime, _touchedParents[i].Mtime);
        _created.Clear();
        _touchedParents.Clear();
    }

    private void CreateMissing(string hostPath, bool isFile)
    {
        if (Exists(hostPath))
            return;
        var missing = new Stack<string>();
        for (var path = hostPath; !Exists(path); path = Path.GetDirectoryName(path)!)
            missing.Push(path);

        var parent = Path.GetDirectoryName(missing.Peek())!;
        if (LStatTimes(parent) is { } times)
            _touchedParents.Add((parent, times.Atime, times.Mtime));

        while (missing.TryPop(out var path))
        {
            var asFile = isFile && missing.Count == 0;
            if (asFile)
                File.Create(path).Dispose();
            else
                Directory.CreateDirectory(path);
            _created.Add((path, asFile));
        }
    }

    private static void RemoveIfUntouched(string path, bool isFile)
    {
        try
        {
            if (isFile)
            {
                var info = new FileInfo(path);
                if (info.Exists && info.LinkTarget is null && info.Length == 0)
                    info.Delete();
            }
            else if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null && !Directory.EnumerateFileSystemEntries(path).Any())
            {
                Directory.Delete(path);
            }
        }
        catch (IOException)
        {
            // Something was put there after all (or it is busy): it belongs to the layer now.
        }
    }

    private static bool Exists(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static bool IsBeneath(string path, string ancestor)
    {
        var a = ancestor.TrimEnd('/');
        return path.StartsWith(a + "/", StringComparison.Ordinal);
    }

    // Nanosecond timestamps: the layer differ compares them exactly, DateTime would round them.
    private static unsafe (timespec Atime, timespec Mtime)? LStatTimes(string path)
    {
        stat st;
        fixed (byte* p = NullTerminated(path))
        {
            if (lstat(p, &st) != 0)
                return null;
        }
        return (st.st_atim, st.st_mtim);
    }

    private static unsafe void RestoreTimes(string path, timespec atime, timespec mtime)
    {
        var times = stackalloc timespec[2];
        times[0] = atime;
        times[1] = mtime;
        fixed (byte* p = NullTerminated(path))
            utimensat(AT_FDCWD, p, times, AT_SYMLINK_NOFOLLOW);
    }

    private static byte[] NullTerminated(string path) => Encoding.UTF8.GetBytes(path + '\0');
}
