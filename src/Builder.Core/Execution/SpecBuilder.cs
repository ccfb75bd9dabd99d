namespace Builder.Core.Execution;

/// <summary>
/// Turns an <see cref="ExecSpec"/> into the OCI runtime spec runc runs: Docker's default
/// confinement (namespaces, capabilities, masked /proc and /sys paths) around the given process.
/// </summary>
internal static class SpecBuilder
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    // Docker's default capability set: enough for package managers (chown, setuid, mknod …),
    // nothing that reaches the host (no SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE …).
    private static readonly string[] DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    // Kernel interfaces that leak host information or allow host-wide changes (Docker's list).
    private static readonly string[] MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    // Capability names by number (linux/capability.h), for RUN --security=insecure.
    private static readonly string[] CapabilityNames =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    /// <summary>
    /// What Docker's --privileged grants: every capability this process may still hand on (its
    /// bounding set — asking for more makes the runtime fail when builder itself runs confined).
    /// </summary>
    private static readonly Lazy<string[]> AllCapabilities = new(() =>
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapBnd:", StringComparison.Ordinal));
        var bounding = line is null ? ulong.MaxValue : Convert.ToUInt64(line["CapBnd:".Length..].Trim(), 16);
        return CapabilityNames.Where((_, bit) => (bounding & (1UL << bit)) != 0).ToArray();
    });

    private static readonly string[] ReadonlyPaths =
        ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public static RuntimeSpec Build(ExecSpec spec, ExecUser user, SandboxFiles files, string cgroupsPath, ulong openFilesLimit) =>
        new(
            OciVersion: "1.0.2",
            Process: BuildProcess(spec, user, openFilesLimit),
            Root: new RootSpec(spec.RootfsPath, Readonly: false),
            Hostname: spec.Hostname,
            Mounts: [.. SystemMounts(spec.Privileged), .. NameResolutionMounts(files), .. spec.Mounts.Select(ToMountSpec)],
            Linux: new LinuxSpec(
                Namespaces: Namespaces(spec.Network),
                CgroupsPath: cgroupsPath,
                // Deny every device; runc adds back the harmless defaults (null, zero, tty, …).
                // Privileged runs may open any device node they create.
                Resources: new ResourcesSpec([new DeviceRuleSpec(Allow: spec.Privileged, Access: "rwm")]),
                MaskedPaths: spec.Privileged ? [] : MaskedPaths,
                ReadonlyPaths: spec.Privileged ? [] : ReadonlyPaths));

    /// <summary>The places in the rootfs the spec mounts on, in mount order.</summary>
    public static IEnumerable<MountTarget> MountTargets(RuntimeSpec spec) =>
        spec.Mounts.Select(m => new MountTarget(m.Destination, IsFile: m.Type == "bind" && File.Exists(m.Source)));

    /// <summary>Env as given, plus Docker's PATH and the user's HOME when the image does not set them.</summary>
    public static IReadOnlyList<string> Environment(IReadOnlyList<string> env, ExecUser user)
    {
        var result = env.ToList();
        if (!HasVariable(env, "PATH"))
            result.Add(DefaultPath);
        if (!HasVariable(env, "HOME"))
            result.Add($"HOME={user.Home}");
        return result;
    }

    private static ProcessSpec BuildProcess(ExecSpec spec, ExecUser user, ulong openFilesLimit) =>
        new(
            Terminal: false,
            User: new UserSpec(user.Uid, user.Gid, user.AdditionalGids.Count > 0 ? user.AdditionalGids : null),
            Args: spec.Args,
            Env: Environment(spec.Env, user),
            Cwd: spec.WorkingDir.Length == 0 ? "/" : spec.WorkingDir,
            Capabilities: spec.Privileged
                ? new CapabilitiesSpec(AllCapabilities.Value, AllCapabilities.Value, AllCapabilities.Value)
                : new CapabilitiesSpec(DefaultCapabilities, DefaultCapabilities, DefaultCapabilities),
            Rlimits: [new RlimitSpec("RLIMIT_NOFILE", Hard: openFilesLimit, Soft: openFilesLimit)],
            NoNewPrivileges: true);

    private static IEnumerable<MountSpec> SystemMounts(bool privileged) =>
    [
        new("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        new("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        new("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        new("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        new("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        new("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"]),
        new("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]),
    ];

    private static IEnumerable<MountSpec> NameResolutionMounts(SandboxFiles files) =>
    [
        new("/etc/hosts", "bind", files.HostsPath, ["rbind", "ro"]),
        new("/etc/resolv.conf", "bind", files.ResolvConfPath, ["rbind", "ro"]),
    ];

    private static MountSpec ToMountSpec(ExecMount mount) => mount.Type switch
    {
        "bind" => new MountSpec(mount.Destination, "bind", mount.Source,
            mount.Options.Contains("bind") || mount.Options.Contains("rbind") ? mount.Options : ["rbind", .. mount.Options]),
        "tmpfs" => new MountSpec(mount.Destination, "tmpfs", "tmpfs", mount.Options),
        _ => new MountSpec(mount.Destination, mount.Type, mount.Source, mount.Options),
    };

    // A new network namespace only for "none": "host" shares the host's, as BuildKit does by default.
    private static IReadOnlyList<NamespaceSpec> Namespaces(NetworkMode network) =>
        network == NetworkMode.None
            ? [new("pid"), new("ipc"), new("uts"), new("mount"), new("network")]
            : [new("pid"), new("ipc"), new("uts"), new("mount")];

    private static bool HasVariable(IEnumerable<string> env, string name) =>
        env.Any(e => e.StartsWith(name + "=", StringComparison.Ordinal));
}
