using System.Globalization;
using System.Text;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>
/// One <c>RUN --mount=…</c> flag, parsed with BuildKit's rules: comma-separated (CSV-quoted) fields,
/// <c>key=value</c> or a bare flag (<c>ro</c>, <c>rw</c>, <c>required</c>); values expanded with the
/// ARG/ENV in scope, except <c>from</c>, which must name a stage or image literally.
/// </summary>
internal sealed record RunMount
{
    public string Type { get; init; } = "bind";
    public string From { get; init; } = "";
    public string Source { get; init; } = "";
    public string Target { get; init; } = "";
    public bool ReadOnly { get; init; }
    public long SizeLimit { get; init; }
    public string Id { get; init; } = "";
    public string Sharing { get; init; } = "";
    public bool Required { get; init; }
    public string? Env { get; init; }
    public int? Mode { get; init; }
    public int? Uid { get; init; }
    public int? Gid { get; init; }

    private static readonly string[] Types = ["bind", "cache", "tmpfs", "secret", "ssh"];
    private static readonly string[] SharingModes = ["shared", "private", "locked"];

    /// <summary>Parses one flag value; <paramref name="expand"/> expands a value word. Throws <see cref="FormatException"/> with BuildKit's message.</summary>
    public static RunMount Parse(string text, Func<string, string> expand)
    {
        var mount = new RunMount();
        bool? readOnly = null;
        foreach (var field in SplitCsv(text))
        {
            var equals = field.IndexOf('=');
            var key = (equals < 0 ? field : field[..equals]).ToLowerInvariant();
            if (equals < 0)
            {
                switch (key)
                {
                    case "readonly" or "ro": readOnly = true; continue;
                    case "readwrite" or "rw": readOnly = false; continue;
                    case "required" when mount.Type is "secret" or "ssh": mount = mount with { Required = true }; continue;
                    case "required": throw new FormatException($"unexpected key '{key}' for mount type '{mount.Type}'");
                    default: throw new FormatException($"invalid field '{field}' must be a key=value pair");
                }
            }
            var raw = field[(equals + 1)..];
            string value;
            if (key == "from")
            {
                var dollar = raw.IndexOf('$');
                if (dollar >= 0 && dollar != raw.Length - 1)
                    throw new FormatException($"'{key}' doesn't support variable expansion, define alias stage instead");
                value = raw;
            }
            else value = expand(raw);

            mount = key switch
            {
                "type" => mount with { Type = OneOf(value.ToLowerInvariant(), Types, $"unsupported mount type \"{value}\"") },
                "from" => mount with { From = value },
                "source" or "src" => mount with { Source = value },
                "target" or "dst" or "destination" => mount with { Target = value },
                "readonly" or "ro" => SetReadOnly(mount, ref readOnly, ParseBool(key, value)),
                "readwrite" or "rw" => SetReadOnly(mount, ref readOnly, !ParseBool(key, value)),
                "required" when mount.Type is "secret" or "ssh" => mount with { Required = ParseBool(key, value) },
                "required" => throw new FormatException($"unexpected key '{key}' for mount type '{mount.Type}'"),
                "size" when mount.Type == "tmpfs" => mount with { SizeLimit = ParseSize(key, value) },
                "size" => throw new FormatException($"unexpected key '{key}' for mount type '{mount.Type}'"),
                "id" => mount with { Id = value },
                "sharing" => mount with { Sharing = OneOf(value.ToLowerInvariant(), SharingModes, $"unsupported sharing value \"{value}\"") },
                "mode" => mount with { Mode = ParseNumber(value, 8, "mode") },
                "uid" => mount with { Uid = ParseNumber(value, 10, "uid") },
                "gid" => mount with { Gid = ParseNumber(value, 10, "gid") },
                "env" => mount with { Env = value },
                _ => throw new FormatException($"unexpected key '{key}' in '{field}'"),
            };
        }
        return Validate(mount with { ReadOnly = readOnly ?? mount.Type is not ("cache" or "tmpfs") });
    }

    private static RunMount SetReadOnly(RunMount mount, ref bool? readOnly, bool value)
    {
        readOnly = value;
        return mount;
    }

    private static RunMount Validate(RunMount m)
    {
        if (m.Type is not ("secret" or "ssh" or "cache"))
        {
            if (m.Mode is not null) throw new FormatException($"mode not allowed for \"{m.Type}\" type mounts");
            if (m.Uid is not null) throw new FormatException($"uid not allowed for \"{m.Type}\" type mounts");
            if (m.Gid is not null) throw new FormatException($"gid not allowed for \"{m.Type}\" type mounts");
        }
        if (m.Type == "secret")
        {
            if (m.From.Length > 0) throw new FormatException("secret mount should not have a from");
            if (m.Sharing.Length > 0) throw new FormatException("secret mount should not define sharing");
            if (m.Source.Length == 0 && m.Target.Length == 0 && m.Id.Length == 0) throw new FormatException("invalid secret mount. one of source, target required");
            if (m.Source.Length > 0 && m.Id.Length > 0) throw new FormatException("both source and id can't be set");
        }
        if (m.Sharing.Length > 0 && m.Type != "cache") throw new FormatException($"invalid cache sharing set for {m.Type} mount");
        if (m.Type == "ssh" && m.Source.Length > 0) throw new FormatException("ssh does not support source");
        return m;
    }

    private static string OneOf(string value, string[] allowed, string message) =>
        allowed.Contains(value) ? value : throw new FormatException($"{message} (expected one of {string.Join(", ", allowed)})");

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "1" or "t" or "true" => true,
        "0" or "f" or "false" => false,
        _ => throw new FormatException($"invalid value for {key}: {value}"),
    };

    private static int ParseNumber(string value, int radix, string what)
    {
        try
        {
            var number = Convert.ToUInt32(value, radix);
            if (number <= int.MaxValue) return (int)number;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { }
        throw new FormatException($"invalid value {value} for {what}");
    }

    /// <summary>Docker's RAM sizes: <c>64m</c>, <c>1.5g</c>, <c>512KiB</c>, plain bytes; binary multiples.</summary>
    internal static long ParseSize(string key, string value)
    {
        var text = value.Trim();
        var end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.')) end++;
        if (end == 0 || !double.TryParse(text[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            throw new FormatException($"invalid value for {key}: {value}");
        var suffix = text[end..].Trim().ToLowerInvariant();
        if (suffix.EndsWith('b')) suffix = suffix[..^1];
        if (suffix.EndsWith('i')) suffix = suffix[..^1];
        var power = suffix switch { "" => 0, "k" => 1, "m" => 2, "g" => 3, "t" => 4, "p" => 5, _ => -1 };
        if (power < 0) throw new FormatException($"invalid value for {key}: {value}");
        return (long)(number * Math.Pow(1024, power));
    }

    /// <summary>CSV fields of one line: commas separate, double quotes group (a doubled quote inside is one quote).</summary>
    internal static IReadOnlyList<string> SplitCsv(string text)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new FormatException($"failed to parse csv mounts: unterminated quote in \"{text}\"");
        fields.Add(field.ToString());
        return fields.Where(f => f.Length > 0).ToList();
    }
}
