namespace Builder.Build;

/// <summary>Architectures the kernel can run through binfmt_misc handlers (qemu-user), named as GOARCH.</summary>
public static class Emulators
{
    private static readonly Dictionary<string, string> QemuToGo = new(StringComparer.Ordinal)
    {
        ["aarch64"] = "arm64", ["arm"] = "arm", ["x86_64"] = "amd64", ["i386"] = "386", ["riscv64"] = "riscv64",
        ["ppc64le"] = "ppc64le", ["s390x"] = "s390x", ["mips64el"] = "mips64le", ["loongarch64"] = "loong64",
    };

    public static IReadOnlyList<string> Registered()
    {
        const string dir = "/proc/sys/fs/binfmt_misc";
        try
        {
            if (!Directory.Exists(dir)) return [];
            return Directory.EnumerateFiles(dir, "qemu-*")
                .Select(f => Path.GetFileName(f)["qemu-".Length..])
                .Where(a => File.ReadAllText(Path.Combine(dir, $"qemu-{a}")).StartsWith("enabled", StringComparison.Ordinal))
                .Select(a => QemuToGo.TryGetValue(a, out var go) ? go : a)
                .ToList();
        }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }
}
