using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>
/// The builder flags one instruction accepts, by kind: string flags take a value, boolean flags
/// may stand alone (<c>--link</c>), list flags may repeat (<c>--mount</c>). Anything else is an error
/// pointing at the flag.
/// </summary>
internal sealed record FlagSpec(string[] Strings, string[] Bools, string[] Lists)
{
    public static readonly FlagSpec None = new([], [], []);

    public ParsedFlags Parse(Node node, DockerfileSource source)
    {
        var values = new Dictionary<string, List<string>>();
        foreach (var flag in node.Flags)
        {
            var name = flag.Name;
            DockerfileException Error(string message) => source.Error(message, flag.Line, flag.Column);

            if (!Strings.Contains(name) && !Bools.Contains(name) && !Lists.Contains(name))
            {
                throw Error($"unknown flag: {name}");
            }
            if (values.ContainsKey(name) && !Lists.Contains(name))
            {
                throw Error($"duplicate flag specified: {name}");
            }
            var value = Bools.Contains(name) ? BoolValue(flag, Error) : flag.Value ?? throw Error($"missing a value on flag: {name}");
            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }
            list.Add(value);
        }
        return new ParsedFlags(values);
    }

    private static string BoolValue(NodeFlag flag, Func<string, DockerfileException> error) => flag.Value switch
    {
        null => "true",
        var v when v.Equals("true", StringComparison.OrdinalIgnoreCase) => "true",
        var v when v.Equals("false", StringComparison.OrdinalIgnoreCase) => "false",
        var v => throw error($"expecting boolean value for flag {flag.Name}, not: {v}"),
    };
}

/// <summary>Flag values after validation, looked up by name (without dashes).</summary>
internal sealed class ParsedFlags(Dictionary<string, List<string>> values)
{
    public string? String(string name) => values.TryGetValue(name, out var v) ? v[0] : null;

    /// <summary>Null when the flag was not given, so callers can tell "off" from "not said".</summary>
    public bool? Bool(string name) => values.TryGetValue(name, out var v) ? v[0] == "true" : null;

    public IReadOnlyList<string> List(string name) => values.TryGetValue(name, out var v) ? v : [];
}
