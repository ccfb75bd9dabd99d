using Tmds.Linux;

namespace Builder.Core.Oci;

/// <summary>
/// fsync of a directory: after a rename the new name is only durable once its directory is
/// flushed, and .NET has no API for that.
/// </summary>
internal static class DirectorySync
{
    public static unsafe void Flush(string directory)
    {
        var path = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = path) fd = LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw new IOException($"cannot open directory {directory} to sync it (errno {LibC.errno})");
        try
        {
            if (LibC.fsync(fd) != 0) throw new IOException($"fsync of directory {directory} failed (errno {LibC.errno})");
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
