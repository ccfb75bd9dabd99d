namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>A fixed set of variables, built from KEY=VALUE pairs or a dictionary.</summary>
public sealed class ShellEnvironment : IShellEnvironment
{
    public static readonly ShellEnvironment Empty = new([]);

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    private ShellEnvironment(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        foreach (var (name, value) in pairs)
        {
            // A later definition replaces an earlier one but keeps its place in the order,
            // as a process environment does.
            if (!_values.ContainsKey(name))
                _names.Add(name);
            _values[name] = value;
        }
    }

    /// <summary>
    /// From "KEY=VALUE" strings (a process environment). A string without '=' sets KEY to "",
    /// and a repeated key takes its last value.
    /// </summary>
    public static ShellEnvironment FromPairs(IEnumerable<string> keyValuePairs) =>
        new(keyValuePairs.Select(SplitPair));

    public static ShellEnvironment FromDictionary(IEnumerable<KeyValuePair<string, string>> values) =>
        new(values);

    public string? Lookup(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public IEnumerable<string> Names => _names;

    private static KeyValuePair<string, string> SplitPair(string pair)
    {
        var equals = pair.IndexOf('=');
        return equals < 0
            ? new(pair, "")
            : new(pair[..equals], pair[(equals + 1)..]);
    }
}
