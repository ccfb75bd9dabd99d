namespace Builder.Core.Tests.Execution;

/// <summary>A throwaway root filesystem: static busybox plus its applets, optionally a user database.</summary>
public sealed class TestRootfs : IDisposable
{
    private static readonly string[] Applets =
    [
        "sh", "ls", "cat", "echo", "hostname", "id", "ps", "sleep", "test", "stat", "pwd", "mkdir",
        "true", "false", "touch", "grep", "wc",
    ];

    public const string Passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n";
    public const string Group = "root:x:0:\nstaff:x:50:app\napp:x:1000:\n";

    private TestRootfs(string path) => Path = path;

    public string Path { get; }

    /// <param name="withEtc">false gives an image with nothing but /bin: no /etc, /proc, /dev or /sys.</param>
    public static TestRootfs Create(bool withEtc = true)
    {
        var rootfs = new TestRootfs(Directory.CreateTempSubdirectory("builder-rootfs-").FullName);
        var bin = Directory.CreateDirectory(System.IO.Path.Combine(rootfs.Path, "bin")).FullName;
        File.Copy("/bin/busybox", System.IO.Path.Combine(bin, "busybox"));
        foreach (var applet in Applets)
            File.CreateSymbolicLink(System.IO.Path.Combine(bin, applet), "busybox");
        if (withEtc)
        {
            rootfs.WriteFile("etc/passwd", Passwd);
            rootfs.WriteFile("etc/group", Group);
        }
        return rootfs;
    }

    public string HostPath(string relative) => System.IO.Path.Combine(Path, relative);

    public void WriteFile(string relative, string contents)
    {
        var path = HostPath(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, contents);
    }

    /// <summary>Every entry below the root, relative, sorted: what a layer diff would look at.</summary>
    public IReadOnlyList<string> Listing() =>
        Directory.EnumerateFileSystemEntries(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => System.IO.Path.GetRelativePath(Path, p))
            .Order(StringComparer.Ordinal)
            .ToList();

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
