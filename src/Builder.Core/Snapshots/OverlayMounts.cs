using System.Text;
using Builder.Core.Filesystem;

namespace Builder.Core.Snapshots;

/// <summary>Mounting and unmounting overlay filesystems, and finding mounts a crashed process left behind.</summary>
internal static class OverlayMounts
{
    // The diff walks whiteouts and opaque dirs only: a renamed directory must be copied up whole
    // (no redirect), a chowned file too (no metacopy), and the inode index would tie an upper dir
    // to the exact lower dirs it was first mounted on.
    private const string FeaturesOff = "index=off,redirect_dir=off,metacopy=off";

    /// <summary>
    /// Mounts an overlay at <paramref name="target"/>. <paramref name="lowerDirs"/> are newest first.
    /// Without an upper dir the mount is read-only.
    /// </summary>
    public static void Mount(string target, IReadOnlyList<string> lowerDirs, string? upperDir, string? workDir)
    {
        foreach (var dir in lowerDirs.Append(upperDir ?? "").Append(workDir ?? ""))
        {
            if (dir.IndexOfAny([',', ':', '\\']) >= 0)
                throw new IOException($"overlay cannot mount a directory whose path contains ',' ':' or '\\': {dir}");
        }

        var options = $"lowerdir={string.Join(':', lowerDirs)}";
        if (upperDir is not null) options += $",upperdir={upperDir},workdir={workDir}";
        var flags = upperDir is null ? Native.MountReadOnly : 0;

        // mount(2) copies at most one page of options; a longer chain goes layer by layer through fsconfig.
        if (Encoding.UTF8.GetByteCount(options + "," + FeaturesOff) >= Native.PageSize)
        {
            MountLayerByLayer(target, lowerDirs, upperDir, workDir);
            return;
        }

        try
        {
            MountWithinPageSize(target, options + "," + FeaturesOff, flags, lowerDirs.Count);
        }
        catch (NativeException e) when (e.Errno == Tmds.Linux.LibC.EINVAL)
        {
            // Kernels built without these features refuse the options; they then do not use them either.
            MountWithinPageSize(target, options, flags, lowerDirs.Count);
        }
    }

    /// <summary>Unmounts <paramref name="target"/>; when busy, detaches it lazily so it is gone from the tree at once.</summary>
    public static void UnmountOrDetach(string target)
    {
        try
        {
            Native.Unmount(target, detach: false);
        }
        catch (NativeException e) when (e.Errno == Tmds.Linux.LibC.EBUSY)
        {
            Native.Unmount(target, detach: true);
        }
        catch (NativeException e) when (e.Errno is var errno && (errno == Tmds.Linux.LibC.EINVAL || errno == Tmds.Linux.LibC.ENOENT))
        {
            // Not mounted (EINVAL) or already gone: nothing to undo.
        }
    }

    /// <summary>Mount points at or below <paramref name="directory"/> in this mount namespace, deepest first.</summary>
    public static IReadOnlyList<string> MountPointsUnder(string directory)
    {
        var prefix = Path.TrimEndingDirectorySeparator(directory) + "/";
        return File.ReadLines("/proc/self/mountinfo")
            .Select(line => DecodeMountInfoPath(line.Split(' ')[4]))
            .Where(mountPoint => mountPoint.StartsWith(prefix, StringComparison.Ordinal) || mountPoint + "/" == prefix)
            .Distinct()
            .OrderByDescending(mountPoint => mountPoint.Length)
            .ToList();
    }

    private static void MountLayerByLayer(string target, IReadOnlyList<string> lowerDirs, string? upperDir, string? workDir)
    {
        // "lowerdir+" appends one layer per call (Linux 6.8+); older kernels reject it with EINVAL.
        var options = lowerDirs.Select(dir => ("lowerdir+", (string?)dir)).ToList();
        if (upperDir is not null) options.AddRange([("upperdir", upperDir), ("workdir", workDir)]);
        options.AddRange([("index", "off"), ("redirect_dir", "off"), ("metacopy", "off")]);
        try
        {
            Native.MountWithFsConfig("overlay", target, options, readOnly: upperDir is null);
        }
        catch (NativeException e) when (e.Errno == Tmds.Linux.LibC.EINVAL)
        {
            throw new IOException(
                $"a chain of {lowerDirs.Count} layers is too long for one overlay mount on this kernel " +
                "(mount(2) takes one page of options and fsconfig's lowerdir+ needs Linux 6.8)", e);
        }
    }

    private static void MountWithinPageSize(string target, string options, ulong flags, int layerCount)
    {
        // mount(2) copies at most one page of options; anything longer would be cut silently.
        if (Encoding.UTF8.GetByteCount(options) >= Native.PageSize)
        {
            throw new IOException(
                $"a chain of {layerCount} layers is too long for one overlay mount: its options take " +
                $"{Encoding.UTF8.GetByteCount(options)} bytes, the kernel takes {Native.PageSize - 1} " +
                "(a shorter state root path raises the limit)");
        }
        Native.Mount("overlay", target, "overlay", flags, options);
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    private static string DecodeMountInfoPath(string field)
    {
        if (!field.Contains('\\')) return field;
        var decoded = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                decoded.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                decoded.Append(field[i]);
            }
        }
        return decoded.ToString();
    }
}
