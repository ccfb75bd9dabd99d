namespace Builder.Cli.Commands;

/// <summary>
/// One <c>-o/--output</c> of <c>builder build</c>, in buildx's syntax: <c>type=oci,dest=out.tar</c>,
/// or a bare path meaning <c>type=local,dest=PATH</c>.
/// </summary>
public sealed record OutputSpec(string Type, IReadOnlyDictionary<string, string> Attributes)
{
    public static readonly IReadOnlySet<string> Types = new HashSet<string> { "image", "registry", "oci", "docker", "local", "tar" };

    public string? Dest => Attributes.GetValueOrDefault("dest");

    public static OutputSpec Parse(string text)
    {
        if (!text.Contains('=')) return new OutputSpec("local", new Dictionary<string, string> { ["dest"] = text });

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in SplitFields(text))
        {
            var eq = field.IndexOf('=');
            if (eq <= 0) throw new FormatException($"invalid output \"{text}\": \"{field}\" is not key=value");
            attributes[field[..eq].Trim()] = field[(eq + 1)..];
        }
        if (!attributes.Remove("type", out var type))
            throw new FormatException($"invalid output \"{text}\": type is required (one of {string.Join(", ", Types)})");
        if (!Types.Contains(type))
            throw new FormatException($"invalid output \"{text}\": unknown type \"{type}\" (expected one of {string.Join(", ", Types)})");
        if (type is not ("image" or "registry") && !attributes.ContainsKey("dest"))
            throw new FormatException($"invalid output \"{text}\": type={type} needs dest=PATH");
        return new OutputSpec(type, attributes);
    }

    /// <summary>Comma-separated fields; a field in double quotes may hold commas (CSV, as buildx reads it).</summary>
    private static IEnumerable<string> SplitFields(string text)
    {
        var field = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"') { quoted = !quoted; continue; }
            if (c == ',' && !quoted) { yield return field.ToString(); field.Clear(); continue; }
            field.Append(c);
        }
        if (quoted) throw new FormatException($"invalid output \"{text}\": unterminated quote");
        yield return field.ToString();
    }
}
