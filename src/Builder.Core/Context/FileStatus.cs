using System.Text;
using Tmds.Linux;

namespace Builder.Core.Context;

public enum EntryType
{
    File,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

/// <summary>
/// What <c>lstat</c> says about a path: the link itself, never what it points to.
/// .NET's file APIs have neither inode nor ctime, which the stat cache needs.
/// </summary>
/// <param name="Mode">permission bits including setuid, setgid and sticky (<c>st_mode &amp; 07777</c>).</param>
public sealed record FileStatus(
    EntryType Type,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    ulong Inode,
    long MtimeNs,
    long CtimeNs)
{
    /// <summary>The status of <paramref name="path"/>, or null when nothing is there.</summary>
    public static unsafe FileStatus? Lstat(string path)
    {
        var native = new stat();
        var bytes = NullTerminated(path);
        int result;
        fixed (byte* pathBytes = bytes) result = LibC.lstat(pathBytes, &native);
        if (result == 0) return From(native);

        var errno = LibC.errno;
        if (errno == LibC.ENOENT || errno == LibC.ENOTDIR) return null;
        throw new IOException($"{path}: lstat failed: {new System.ComponentModel.Win32Exception(errno).Message}");
    }

    /// <summary>The status of an open file (to check it still is the file that was stat'ed).</summary>
    internal static unsafe FileStatus Fstat(Microsoft.Win32.SafeHandles.SafeFileHandle file, string pathForErrors)
    {
        var native = new stat();
        if (LibC.fstat((int)file.DangerousGetHandle(), &native) != 0)
            throw new IOException($"{pathForErrors}: fstat failed: {new System.ComponentModel.Win32Exception(LibC.errno).Message}");
        return From(native);
    }

    /// <summary>The same file, unchanged: everything the stat cache trusts in place of re-reading it.</summary>
    public bool IsSameVersionAs(FileStatus other) => this == other;

    internal static byte[] NullTerminated(string path) => Encoding.UTF8.GetBytes(path + "\0");

    private static FileStatus From(in stat native)
    {
        var mode = (uint)native.st_mode;
        return new FileStatus(
            TypeOf(mode),
            mode & 0xFFF,
            (uint)native.st_uid,
            (uint)native.st_gid,
            (long)native.st_size,
            (ulong)native.st_ino,
            Nanoseconds(native.st_mtim),
            Nanoseconds(native.st_ctim));
    }

    private static long Nanoseconds(in timespec time) => (long)time.tv_sec * 1_000_000_000L + (long)time.tv_nsec;

    /// <summary>The entry type of an st_mode value (the client sends modes over the wire; the daemon reads them back with this).</summary>
    public static EntryType TypeOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => EntryType.File,
        0x4000 => EntryType.Directory,
        0xA000 => EntryType.Symlink,
        0x1000 => EntryType.Fifo,
        0xC000 => EntryType.Socket,
        0x2000 => EntryType.CharDevice,
        0x6000 => EntryType.BlockDevice,
        _ => throw new IOException($"unknown file type in mode {mode:x}"),
    };
}
