using Builder.Frontends.Dockerfile.Shell;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>
/// The variables visible to one stage while it is converted: ARGs declared so far (with their
/// values from --build-arg or defaults) and the image's ENV. ENV wins over ARG of the same name,
/// as Docker documents. ARGs reach RUN's environment but never the image config.
/// </summary>
internal sealed class BuildScope
{
    private readonly List<KeyValuePair<string, string?>> _args = [];

    public IReadOnlyList<KeyValuePair<string, string?>> Args => _args;

    /// <summary>Declares or redeclares an ARG (a null value: declared without one).</summary>
    public void DeclareArg(string name, string? value)
    {
        _args.RemoveAll(a => a.Key == name);
        _args.Add(new(name, value));
    }

    public string? ArgValue(string name) => _args.LastOrDefault(a => a.Key == name).Value;

    /// <summary>The environment words are expanded in: ARGs with values, then ENV on top.</summary>
    public IShellEnvironment ExpansionEnvironment(IReadOnlyList<string> imageEnv)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in _args)
            if (value is not null) values[key] = value;
        foreach (var pair in imageEnv)
        {
            var eq = pair.IndexOf('=');
            if (eq > 0) values[pair[..eq]] = pair[(eq + 1)..];
        }
        return ShellEnvironment.FromDictionary(values);
    }

    /// <summary>ARGs with values that ENV does not already set: what RUN adds to its environment.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ArgsForRun(IReadOnlyList<string> imageEnv)
    {
        var envNames = imageEnv.Select(e => e.Split('=', 2)[0]).ToHashSet(StringComparer.Ordinal);
        return _args.Where(a => a.Value is not null && !envNames.Contains(a.Key))
            .Select(a => new KeyValuePair<string, string>(a.Key, a.Value!))
            .ToList();
    }
}
