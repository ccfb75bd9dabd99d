using System.Globalization;

namespace Builder.Core.Execution;

/// <summary>
/// RLIMIT_NOFILE for sandboxed processes: Docker's 1048576, unless this process may not raise its
/// hard limit that far (no CAP_SYS_RESOURCE, e.g. when itself confined) — then the runtime's
/// setrlimit would fail the whole run, so the sandbox gets our own hard limit instead.
/// </summary>
internal static class OpenFilesLimit
{
    public const ulong Preferred = 1048576;

    private const int CapSysResource = 24;

    public static ulong ForSandbox()
    {
        var hard = OwnHardLimit();
        return hard >= Preferred || HasEffectiveCapability(CapSysResource) ? Preferred : hard;
    }

    // "Max open files            20000                20000                files"
    private static ulong OwnHardLimit()
    {
        var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is [_, var hard, ..] && ulong.TryParse(hard, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : Preferred; // "unlimited" or unreadable: nothing to clamp to.
    }

    private static bool HasEffectiveCapability(int capability)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps)
            && (caps & (1UL << capability)) != 0;
    }
}
