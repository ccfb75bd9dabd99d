using Builder.Core.Solver;

namespace Builder.Cli.Commands;

/// <summary>
/// The build flags that hand the step sandbox something of the client's: <c>--secret</c>,
/// <c>--ssh</c> and <c>--allow</c>, parsed as docker buildx parses them.
/// </summary>
public static class SessionOptions
{
    /// <summary>
    /// <c>id=ID[,src=PATH|source=PATH][,env=VAR][,type=file|env]</c>. Without src or env the value comes
    /// from the environment variable named like the id, else from a file of that name (buildx's rule).
    /// </summary>
    public static IReadOnlyList<SecretSource> ParseSecrets(IEnumerable<string> specs) => specs.Select(ParseSecret).ToList();

    private static SecretSource ParseSecret(string spec)
    {
        string? id = null, src = null, env = null, type = null;
        foreach (var field in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = field.IndexOf('=') is var i and >= 0 ? (field[..i].Trim().ToLowerInvariant(), field[(i + 1)..]) : (field.Trim().ToLowerInvariant(), "");
            switch (key)
            {
                case "id": id = value; break;
                case "src" or "source": src = value; break;
                case "env": env = value; break;
                case "type" when value is "file" or "env": type = value; break;
                case "type": throw new CliException($"invalid --secret {spec}: unsupported secret type \"{value}\"");
                default: throw new CliException($"invalid --secret {spec}: unexpected key \"{key}\"");
            }
        }
        if (type == "env" && env is null) (env, src) = (src ?? id, null);
        id ??= src is not null ? Path.GetFileName(src) : env;
        if (string.IsNullOrEmpty(id)) throw new CliException($"invalid --secret {spec}: id is required");
        if (src is null && env is null)
        {
            if (type != "file" && Environment.GetEnvironmentVariable(id) is not null) env = id;
            else src = id;
        }
        return src is not null ? new SecretSource(id, FilePath: Path.GetFullPath(src)) : new SecretSource(id, EnvironmentVariable: env);
    }

    /// <summary><c>default</c> (the client's SSH_AUTH_SOCK), <c>ID=SOCKET</c> or <c>default=SOCKET</c> → id → socket path.</summary>
    public static IReadOnlyDictionary<string, string> ParseSsh(IEnumerable<string> specs)
    {
        var agents = new Dictionary<string, string>();
        foreach (var spec in specs)
        {
            var (id, paths) = spec.IndexOf('=') is var i and >= 0 ? (spec[..i], spec[(i + 1)..]) : (spec, "");
            if (id.Length == 0) throw new CliException($"invalid --ssh {spec}: id is required");
            var socket = paths.Split(',', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
                ?? Environment.GetEnvironmentVariable("SSH_AUTH_SOCK")
                ?? throw new CliException($"invalid --ssh {spec}: no socket given and SSH_AUTH_SOCK is not set");
            if (!File.Exists(socket)) throw new CliException($"invalid --ssh {spec}: {socket} does not exist");
            agents[id] = Path.GetFullPath(socket);
        }
        return agents;
    }

    /// <summary><c>--allow security.insecure</c> (and <c>network.host</c>, which needs nothing here).</summary>
    public static IReadOnlySet<string> ParseAllow(IEnumerable<string> values)
    {
        var granted = new HashSet<string>();
        foreach (var value in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            if (value is not (Entitlements.SecurityInsecure or Entitlements.NetworkHost))
                throw new CliException($"invalid --allow {value}: expected {Entitlements.SecurityInsecure} or {Entitlements.NetworkHost}");
            granted.Add(value);
        }
        return granted;
    }
}
