using System.Text;
using Tmds.Linux;

namespace Builder.Core.Export;

public enum FileKind { Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket }

/// <summary>
/// What lstat(2) says about a path, without following a symlink. .NET's FileSystemInfo has no
/// owner, inode or device numbers, which exporting a filesystem faithfully needs.
/// </summary>
internal sealed record FileStatus(FileKind Kind, UnixFileMode Mode, uint Uid, uint Gid, long Size,
    DateTimeOffset ModificationTime, ulong Device, ulong Inode, ulong LinkCount, int DeviceMajor, int DeviceMinor)
{
    private const uint TypeMask = 0xF000; // S_IFMT
    private const uint PermissionMask = 0xFFF; // rwx for all plus setuid, setgid and sticky

    public static unsafe FileStatus Lstat(string path)
    {
        stat buffer;
        int result;
        fixed (byte* p = NullTerminated(path)) result = LibC.lstat(p, &buffer);
        if (result != 0) throw new IOException($"lstat {path}: errno {LibC.errno}");

        uint mode = (ushort)buffer.st_mode;
        ulong rdev = buffer.st_rdev;
        return new FileStatus(
            KindOf(mode & TypeMask),
            (UnixFileMode)(mode & PermissionMask),
            buffer.st_uid,
            buffer.st_gid,
            buffer.st_size,
            DateTimeOffset.FromUnixTimeSeconds(buffer.st_mtim.tv_sec),
            buffer.st_dev,
            buffer.st_ino,
            buffer.st_nlink,
            // glibc's major()/minor() encoding of dev_t.
            (int)(((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~0xFFFUL)),
            (int)((rdev & 0xFF) | ((rdev >> 12) & ~0xFFUL)));
    }

    /// <summary>Changes the owner of <paramref name="path"/> itself, not of what a symlink points at.</summary>
    public static unsafe void Lchown(string path, uint uid, uint gid)
    {
        int result;
        fixed (byte* p = NullTerminated(path)) result = LibC.lchown(p, uid, gid);
        if (result != 0) throw new IOException($"lchown {path}: errno {LibC.errno}");
    }

    /// <summary>Creates a device node or fifo (devices need root).</summary>
    public static unsafe void Mknod(string path, FileKind kind, UnixFileMode mode, int major, int minor)
    {
        uint type = kind switch
        {
            FileKind.CharDevice => 0x2000,
            FileKind.BlockDevice => 0x6000,
            FileKind.Fifo => 0x1000,
            _ => throw new ArgumentException($"mknod cannot create a {kind}", nameof(kind)),
        };
        ulong dev = ((ulong)(uint)major & 0xFFF) << 8 | ((ulong)(uint)major & ~0xFFFUL) << 32
                  | ((ulong)(uint)minor & 0xFF) | ((ulong)(uint)minor & ~0xFFUL) << 12;
        int result;
        fixed (byte* p = NullTerminated(path)) result = LibC.mknod(p, (ushort)(type | (uint)mode), dev);
        if (result != 0) throw new IOException($"mknod {path}: errno {LibC.errno}");
    }

    private static FileKind KindOf(uint type) => type switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.Symlink,
        0x2000 => FileKind.CharDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        _ => FileKind.Socket,
    };

    private static byte[] NullTerminated(string path) => Encoding.UTF8.GetBytes(path + "\0");
}
