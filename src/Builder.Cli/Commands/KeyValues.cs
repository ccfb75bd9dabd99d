namespace Builder.Cli.Commands;

/// <summary>Repeated KEY=VALUE flags (--build-arg, --label); later ones win, as in docker.</summary>
public static class KeyValues
{
    /// <param name="fromEnvironment">a bare KEY takes its value from the environment (--build-arg), or is skipped when unset.</param>
    public static IReadOnlyDictionary<string, string> Parse(IEnumerable<string> values, string flag, bool fromEnvironment)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq == 0) throw new CliException($"invalid {flag} \"{value}\": the key is empty");
            if (eq > 0)
            {
                result[value[..eq]] = value[(eq + 1)..];
                continue;
            }
            if (!fromEnvironment) throw new CliException($"invalid {flag} \"{value}\": expected KEY=VALUE");
            if (Environment.GetEnvironmentVariable(value) is { } fromEnv) result[value] = fromEnv;
        }
        return result;
    }
}
