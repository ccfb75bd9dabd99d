using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Daemon;

/// <summary>
/// How a daemon runs: where it listens, which state root it owns, and its GC policy.
/// The config file (--config, JSON) may set <c>root</c>, <c>addr</c>, <c>group</c> and <c>gc</c>;
/// command-line flags win over it.
/// </summary>
public sealed record DaemonOptions
{
    public const string DefaultAddress = "unix:///run/builder/builder.sock";

    public string Address { get; init; } = DefaultAddress;
    public string Root { get; init; } = Core.State.StateRoot.DefaultPath;

    /// <summary>The group given access to the socket (mode 0660) when it exists.</summary>
    public string Group { get; init; } = "builder";

    public GcPolicy Gc { get; init; } = new();

    /// <summary>The socket path of a <c>unix://</c> address.</summary>
    public static string SocketPath(string address) =>
        address.StartsWith("unix://", StringComparison.Ordinal) && address.Length > "unix://".Length
            ? address["unix://".Length..]
            : throw new FormatException($"invalid address \"{address}\": expected unix:///path/to/socket");

    public static DaemonOptions Load(string? configFile, string? address, string? root)
    {
        var options = new DaemonOptions();
        if (configFile is not null)
        {
            ConfigFile file;
            try { file = JsonSerializer.Deserialize(File.ReadAllText(configFile), DaemonConfigJson.Default.ConfigFile) ?? new ConfigFile(); }
            catch (JsonException e) { throw new FormatException($"{configFile}: {e.Message}"); }
            options = options with
            {
                Address = file.Addr ?? options.Address,
                Root = file.Root ?? options.Root,
                Group = file.Group ?? options.Group,
                Gc = new GcPolicy
                {
                    Enabled = file.Gc?.Enabled ?? true,
                    KeepStorage = file.Gc?.KeepStorage is { } keep ? ByteSize.Parse(keep) : 0,
                    KeepDuration = file.Gc?.KeepDuration is { } d ? DurationText.Parse(d) : null,
                    Interval = file.Gc?.Interval is { } i ? DurationText.Parse(i) : TimeSpan.FromMinutes(10),
                },
            };
        }
        return options with { Address = address ?? options.Address, Root = root ?? options.Root };
    }

}

/// <summary>The daemon's config file as written (its values are parsed by <see cref="DaemonOptions.Load"/>).</summary>
internal sealed record ConfigFile(string? Addr = null, string? Root = null, string? Group = null, GcSection? Gc = null);

internal sealed record GcSection(
    bool? Enabled = null,
    [property: JsonPropertyName("keepStorage")] string? KeepStorage = null,
    [property: JsonPropertyName("keepDuration")] string? KeepDuration = null,
    string? Interval = null);

/// <summary>
/// The config file's JSON, generated at compile time (no reflection: it works in the AOT binary).
/// Lenient as people edit it: any case of names, comments and trailing commas.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ConfigFile))]
internal sealed partial class DaemonConfigJson : JsonSerializerContext;

/// <summary>
/// Automatic garbage collection: after builds and every <see cref="Interval"/>, prune build
/// cache beyond <see cref="KeepStorage"/> bytes (least recently used first) and older than
/// <see cref="KeepDuration"/>. KeepStorage 0 turns the size limit off.
/// </summary>
public sealed record GcPolicy
{
    public bool Enabled { get; init; } = true;
    public long KeepStorage { get; init; }
    public TimeSpan? KeepDuration { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>Sizes as docker writes them: 512, 10MB, 1.5GB, 20gb (powers of 1024, as buildkit).</summary>
public static class ByteSize
{
    public static long Parse(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        var units = new (string Suffix, long Factor)[] { ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("B", 1) };
        foreach (var (suffix, factor) in units)
            if (t.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(t[..^suffix.Length], System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0)
                return (long)(n * factor);
        return long.TryParse(t, out var bytes) && bytes >= 0 ? bytes : throw new FormatException($"invalid size \"{text}\": expected e.g. 512MB or 10GB");
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##}GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##}MB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.##}kB",
        _ => $"{bytes}B",
    };
}

/// <summary>Durations as Go writes them (24h, 90m, 1h30m, 45s) plus days (7d).</summary>
public static class DurationText
{
    public static TimeSpan Parse(string text)
    {
        var total = TimeSpan.Zero;
        var matches = System.Text.RegularExpressions.Regex.Matches(text.Trim(), @"(\d+(?:\.\d+)?)(ms|d|h|m|s)");
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text.Trim())
            throw new FormatException($"invalid duration \"{text}\": expected e.g. 24h, 90m or 7d");
        foreach (System.Text.RegularExpressions.Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "d" => TimeSpan.FromDays(n),
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                _ => TimeSpan.FromMilliseconds(n),
            };
        }
        return total;
    }
}
