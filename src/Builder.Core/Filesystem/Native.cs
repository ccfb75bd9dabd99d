using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Builder.Core.Filesystem;

/// <summary>
/// The Linux calls the filesystem layer needs and .NET does not offer, as path-based methods
/// that never follow a symlink in the last component and throw <see cref="NativeException"/>
/// on failure. This is the only place that declares native imports: Tmds.LibC covers most calls,
/// and the xattr family (missing from Tmds.LibC 0.5.0) is bound here with LibraryImport.
/// </summary>
public static unsafe partial class Native
{
    /// <summary>lstat(2). Throws when the path does not exist.</summary>
    public static FileStatus LStat(string path) =>
        TryLStat(path, out var status) ? status : throw NativeException.FromErrno("lstat", path, ENOENT);

    /// <summary>lstat(2); false when the path (or a parent) does not exist.</summary>
    public static bool TryLStat(string path, out FileStatus status)
    {
        stat st;
        int rc;
        fixed (byte* p = Utf8(path))
            rc = lstat(p, &st);
        if (rc != 0)
        {
            var error = errno;
            if (error == ENOENT || error == ENOTDIR) { status = default; return false; }
            throw NativeException.FromErrno("lstat", path, error);
        }
        status = new FileStatus(
            Device: st.st_dev,
            Inode: (ulong)st.st_ino,
            Mode: (uint)(ushort)st.st_mode,
            Uid: st.st_uid,
            Gid: st.st_gid,
            RawDevice: st.st_rdev,
            Size: (long)st.st_size,
            LinkCount: (ulong)st.st_nlink,
            ModifiedSeconds: st.st_mtim.tv_sec,
            ModifiedNanoseconds: (long)st.st_mtim.tv_nsec);
        return true;
    }

    /// <summary>readlink(2): the symlink's target as stored, never resolved.</summary>
    public static string ReadLink(string path)
    {
        var buffer = new byte[4096];
        long length;
        fixed (byte* p = Utf8(path))
        fixed (byte* b = buffer)
            length = readlink(p, b, buffer.Length);
        Check(length < 0 ? -1 : 0, "readlink", path);
        return Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    public static void CreateSymlink(string target, string linkPath)
    {
        fixed (byte* t = Utf8(target))
        fixed (byte* l = Utf8(linkPath))
            Check(symlink(t, l), "symlink", linkPath);
    }

    /// <summary>link(2) without following <paramref name="existing"/> when it is a symlink.</summary>
    public static void CreateHardLink(string existing, string newPath)
    {
        fixed (byte* e = Utf8(existing))
        fixed (byte* n = Utf8(newPath))
            Check(linkat(AT_FDCWD, e, AT_FDCWD, n, 0), "link", newPath);
    }

    /// <summary>mknod(2). <paramref name="typeAndPermissions"/> holds S_IFCHR/S_IFBLK/S_IFIFO and the permission bits.</summary>
    public static void CreateNode(string path, uint typeAndPermissions, uint major, uint minor)
    {
        fixed (byte* p = Utf8(path))
            Check(mknodat(AT_FDCWD, p, (ushort)typeAndPermissions, MakeDevice(major, minor)), "mknod", path);
    }

    /// <summary>Creates a new regular file for writing; fails if anything (a symlink included) is already there.</summary>
    public static SafeFileHandle CreateNewFile(string path)
    {
        int fd;
        fixed (byte* p = Utf8(path))
            fd = openat(AT_FDCWD, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x180 /* 0600 until the real mode is set */);
        Check(fd < 0 ? -1 : 0, "create", path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens an existing regular file for reading; refuses a symlink.</summary>
    /// <summary>
    /// Copies everything from <paramref name="source"/> to <paramref name="target"/> inside the kernel
    /// (copy_file_range: no user-space buffer, reflinks where the filesystem can). Returns false when
    /// the kernel cannot do it for this pair (e.g. across filesystems) before anything was copied, so
    /// the caller copies through a buffer instead.
    /// </summary>
    public static bool TryCopyFileRange(SafeFileHandle source, SafeFileHandle target, string path)
    {
        var inFd = (int)source.DangerousGetHandle();
        var outFd = (int)target.DangerousGetHandle();
        var copiedAny = false;
        while (true)
        {
            var n = copy_file_range(inFd, null, outFd, null, 1 << 30, 0);
            if (n == 0) return true;
            if (n > 0) { copiedAny = true; continue; }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (!copiedAny && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) return false;
            throw NativeException.FromErrno("copy_file_range", path, errno);
        }
    }

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint copy_file_range(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);

    public static SafeFileHandle OpenForReading(string path)
    {
        int fd;
        fixed (byte* p = Utf8(path))
            fd = openat(AT_FDCWD, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        Check(fd < 0 ? -1 : 0, "open", path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>lchown(2): sets the owner of the path itself, a symlink included.</summary>
    public static void SetOwner(string path, uint uid, uint gid)
    {
        fixed (byte* p = Utf8(path))
            Check(lchown(p, uid, gid), "lchown", path);
    }

    /// <summary>
    /// chmod(2) with the setuid/setgid/sticky bits. Call after <see cref="SetOwner"/>: chown clears setuid.
    /// Must not be called on a symlink (Linux has no symlink modes, and chmod would follow it).
    /// </summary>
    public static void SetMode(string path, uint mode)
    {
        fixed (byte* p = Utf8(path))
            Check(fchmodat(AT_FDCWD, p, (ushort)(mode & 0xFFF), 0), "chmod", path);
    }

    /// <summary>Sets access and modification time of the path itself (a symlink is not followed).</summary>
    public static void SetTimes(string path, long seconds, long nanoseconds)
    {
        var times = stackalloc timespec[2];
        times[0].tv_sec = seconds;
        times[0].tv_nsec = (long_t)nanoseconds;
        times[1] = times[0];
        fixed (byte* p = Utf8(path))
            Check(utimensat(AT_FDCWD, p, times, AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    public static void SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* v = value)
            Check(lsetxattr(path, name, v, (nuint)value.Length, 0), "lsetxattr " + name, path);
    }

    /// <summary>The attribute's value, or null when the path does not have it.</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        while (true)
        {
            var size = lgetxattr(path, name, null, 0);
            if (size < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == ENODATA || error == EOPNOTSUPP) return null;
                throw NativeException.FromErrno("lgetxattr " + name, path, error);
            }
            var value = new byte[size];
            fixed (byte* v = value)
                size = lgetxattr(path, name, v, (nuint)value.Length);
            // ERANGE: the value grew between the two calls; ask again.
            if (size < 0 && Marshal.GetLastPInvokeError() == ERANGE) continue;
            Check(size < 0 ? -1 : 0, "lgetxattr " + name, path, Marshal.GetLastPInvokeError());
            return value.AsSpan(0, (int)size).ToArray();
        }
    }

    /// <summary>Names of the path's extended attributes, sorted ordinally.</summary>
    public static IReadOnlyList<string> ListXattrs(string path)
    {
        while (true)
        {
            var size = llistxattr(path, null, 0);
            if (size < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EOPNOTSUPP) return [];
                throw NativeException.FromErrno("llistxattr", path, error);
            }
            if (size == 0) return [];
            var buffer = new byte[size];
            fixed (byte* b = buffer)
                size = llistxattr(path, b, (nuint)buffer.Length);
            if (size < 0 && Marshal.GetLastPInvokeError() == ERANGE) continue;
            Check(size < 0 ? -1 : 0, "llistxattr", path, Marshal.GetLastPInvokeError());
            var names = Encoding.UTF8.GetString(buffer, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            Array.Sort(names, StringComparer.Ordinal);
            return names;
        }
    }

    /// <summary>mount(2).</summary>
    public static void Mount(string? source, string target, string? fileSystemType, ulong flags, string? data)
    {
        fixed (byte* s = source is null ? null : Utf8(source))
        fixed (byte* t = Utf8(target))
        fixed (byte* f = fileSystemType is null ? null : Utf8(fileSystemType))
        fixed (byte* d = data is null ? null : Utf8(data))
            Check(mount(s, t, f, (ulong_t)flags, d), "mount", target);
    }

    /// <summary>umount2(2); <paramref name="detach"/> uses MNT_DETACH (lazy: the mount disappears now, the filesystem when unused).</summary>
    public static void Unmount(string target, bool detach)
    {
        fixed (byte* t = Utf8(target))
            Check(umount2(t, (detach ? MNT_DETACH : 0) | UMOUNT_NOFOLLOW), "umount", target);
    }

    /// <summary>
    /// Mounts with the new mount API (fsopen, fsconfig, fsmount, move_mount), where each option is
    /// its own call: no one-page limit on the whole option string. A null value sets a flag option.
    /// </summary>
    public static void MountWithFsConfig(string fileSystemType, string target, IEnumerable<(string Key, string? Value)> options, bool readOnly)
    {
        var context = fsopen(fileSystemType, FsOpenCloseOnExec);
        Check(context < 0 ? -1 : 0, "fsopen " + fileSystemType, target, Marshal.GetLastPInvokeError());
        try
        {
            foreach (var (key, value) in options)
            {
                var rc = value is null
                    ? fsconfig(context, FsConfigSetFlag, key, null, 0)
                    : fsconfig(context, FsConfigSetString, key, value, 0);
                Check(rc, $"fsconfig {key}={value}", target, Marshal.GetLastPInvokeError());
            }
            Check(fsconfig(context, FsConfigCreate, null, null, 0), "fsconfig create", target, Marshal.GetLastPInvokeError());

            var mountFd = fsmount(context, FsMountCloseOnExec, readOnly ? MountAttrReadOnly : 0);
            Check(mountFd < 0 ? -1 : 0, "fsmount", target, Marshal.GetLastPInvokeError());
            try
            {
                Check(move_mount(mountFd, "", AT_FDCWD, target, MoveMountFromEmptyPath), "move_mount", target, Marshal.GetLastPInvokeError());
            }
            finally
            {
                close(mountFd);
            }
        }
        finally
        {
            close(context);
        }
    }

    public static ulong MountReadOnly => MS_RDONLY;
    public static ulong MountBind => MS_BIND;
    public static ulong MountRemount => MS_REMOUNT;

    /// <summary>The page size, which bounds the option string of mount(2).</summary>
    public static int PageSize => Environment.SystemPageSize;

    // glibc's makedev(3): 12 bits of major and 20 of minor, split across the 64-bit dev_t.
    private static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfff) << 8) | ((ulong)(major & ~0xfffu) << 32) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12);

    internal static uint DeviceMajor(ulong device) => (uint)(((device >> 8) & 0xfff) | ((device >> 32) & ~0xfffUL));

    internal static uint DeviceMinor(ulong device) => (uint)((device & 0xff) | ((device >> 12) & ~0xffUL));

    private static byte[] Utf8(string value)
    {
        if (value.Contains('\0')) throw new ArgumentException($"path contains a NUL byte: {value}");
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static void Check(int rc, string operation, string path) => Check(rc, operation, path, errno);

    private static void Check(int rc, string operation, string path, int error)
    {
        if (rc != 0) throw NativeException.FromErrno(operation, path, error);
    }

    private const uint FsOpenCloseOnExec = 1;
    private const uint FsConfigSetFlag = 0;
    private const uint FsConfigSetString = 1;
    private const uint FsConfigCreate = 6;
    private const uint FsMountCloseOnExec = 1;
    private const uint MountAttrReadOnly = 1;
    private const uint MoveMountFromEmptyPath = 4;

    [LibraryImport("libc", EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsopen(string fileSystemName, uint flags);

    [LibraryImport("libc", EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsconfig(int fd, uint command, string? key, string? value, int aux);

    [LibraryImport("libc", EntryPoint = "fsmount", SetLastError = true)]
    private static partial int fsmount(int fd, uint flags, uint attributes);

    [LibraryImport("libc", EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int move_mount(int fromDirectory, string fromPath, int toDirectory, string toPath, uint flags);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint llistxattr(string path, byte* list, nuint size);
}

/// <summary>The fields of lstat(2) the filesystem layer uses.</summary>
public readonly record struct FileStatus(
    ulong Device, ulong Inode, uint Mode, uint Uid, uint Gid, ulong RawDevice,
    long Size, ulong LinkCount, long ModifiedSeconds, long ModifiedNanoseconds)
{
    public const uint TypeMask = 0xF000;
    public const uint TypeFifo = 0x1000;
    public const uint TypeCharDevice = 0x2000;
    public const uint TypeDirectory = 0x4000;
    public const uint TypeBlockDevice = 0x6000;
    public const uint TypeRegular = 0x8000;
    public const uint TypeSymlink = 0xA000;
    public const uint TypeSocket = 0xC000;

    public uint Type => Mode & TypeMask;

    /// <summary>Permission bits with setuid, setgid and sticky (07777).</summary>
    public uint Permissions => Mode & 0xFFF;

    public bool IsDirectory => Type == TypeDirectory;
    public bool IsRegularFile => Type == TypeRegular;
    public bool IsSymlink => Type == TypeSymlink;

    public uint DeviceMajor => Native.DeviceMajor(RawDevice);
    public uint DeviceMinor => Native.DeviceMinor(RawDevice);

    /// <summary>An overlay whiteout: a character device numbered 0/0.</summary>
    public bool IsOverlayWhiteout => Type == TypeCharDevice && RawDevice == 0;
}

/// <summary>A failed system call, with the errno to test against.</summary>
public sealed class NativeException(string message, int errno) : IOException(message, errno)
{
    public int Errno { get; } = errno;

    internal static NativeException FromErrno(string operation, string path, int errno) =>
        new($"{operation} {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
}
