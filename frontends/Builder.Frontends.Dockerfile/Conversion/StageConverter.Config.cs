using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Instructions;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>The instructions that only change the image config (each still adds an empty-layer history entry).</summary>
internal sealed partial class StageConverter
{
    private void SetEnv(EnvInstruction instruction)
    {
        // Every pair is expanded with the environment as it was before this instruction (Docker's rule).
        var env = ExpansionEnv;
        var pairs = instruction.Variables
            .Select(v => (Key: _build.Expand(v.Key, env, instruction.Location), Value: _build.Expand(v.Value, env, instruction.Location)))
            .ToList();
        var updated = Env.ToList();
        foreach (var (key, value) in pairs)
        {
            var index = updated.FindIndex(e => e.StartsWith(key + "=", StringComparison.Ordinal));
            if (index >= 0) updated[index] = $"{key}={value}";
            else updated.Add($"{key}={value}");
        }
        UpdateConfig(c => c with { Env = updated });
        AddHistory($"ENV {string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}"))}", emptyLayer: true);
    }

    private void DeclareArgs(ArgInstruction instruction)
    {
        foreach (var declaration in instruction.Args)
        {
            var value = _build.BuildArg(declaration.Name)
                ?? (declaration.DefaultValue is { } d ? Expand(d, instruction) : null)
                ?? _build.MetaScope.ArgValue(declaration.Name);
            _scope.DeclareArg(declaration.Name, value);
        }
        // BuildKit records the declaration (with its value) in the history; never in Env.
        AddHistory("ARG " + string.Join(' ', instruction.Args.Select(a => _scope.ArgValue(a.Name) is { } v ? $"{a.Name}={v}" : a.Name)), emptyLayer: true);
    }

    private void SetLabels(LabelInstruction instruction)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in _config.Config.Labels ?? new Dictionary<string, string>()) labels[k] = v;
        var added = instruction.Labels.Select(l => (Key: Expand(l.Key, instruction), Value: Expand(l.Value, instruction))).ToList();
        foreach (var (key, value) in added) labels[key] = value;
        UpdateConfig(c => c with { Labels = labels });
        AddHistory($"LABEL {string.Join(' ', added.Select(l => $"{l.Key}={l.Value}"))}", emptyLayer: true);
    }

    private void SetUser(UserInstruction instruction)
    {
        var user = Expand(instruction.User, instruction);
        UpdateConfig(c => c with { User = user });
        AddHistory($"USER {user}", emptyLayer: true);
    }

    private void SetCmd(CmdInstruction instruction)
    {
        var cmd = CommandFor(instruction.Command);
        UpdateConfig(c => c with { Cmd = cmd });
        _cmdSetInStage = true;
        AddHistory($"CMD {GoQuotedList(cmd)}", emptyLayer: true);
    }

    private void SetEntrypoint(EntrypointInstruction instruction)
    {
        var entrypoint = CommandFor(instruction.Command);
        // A new ENTRYPOINT drops a CMD inherited from the base image; one set in this stage stays.
        UpdateConfig(c => c with { Entrypoint = entrypoint, Cmd = _cmdSetInStage ? c.Cmd : null });
        AddHistory($"ENTRYPOINT {GoQuotedList(entrypoint)}", emptyLayer: true);
    }

    private void Expose(ExposeInstruction instruction)
    {
        var ports = new SortedDictionary<string, EmptyObject>(StringComparer.Ordinal);
        foreach (var (k, v) in _config.Config.ExposedPorts ?? new Dictionary<string, EmptyObject>()) ports[k] = v;
        var added = new List<string>();
        foreach (var raw in instruction.Ports)
        {
            foreach (var word in _build.Lexer.ProcessWords(raw, ExpansionEnv))
            {
                foreach (var port in ExpandPortRange(word, instruction))
                {
                    ports[port] = new EmptyObject();
                    added.Add(port);
                }
            }
        }
        UpdateConfig(c => c with { ExposedPorts = ports });
        AddHistory($"EXPOSE [{string.Join(' ', added)}]", emptyLayer: true);
    }

    private void AddVolumes(VolumeInstruction instruction)
    {
        var volumes = new SortedDictionary<string, EmptyObject>(StringComparer.Ordinal);
        foreach (var (k, v) in _config.Config.Volumes ?? new Dictionary<string, EmptyObject>()) volumes[k] = v;
        var added = instruction.Paths.Select(p => Expand(p, instruction)).ToList();
        foreach (var path in added)
        {
            if (path.Length == 0) throw Error(instruction, "VOLUME specified can not be an empty string");
            volumes[path] = new EmptyObject();
        }
        UpdateConfig(c => c with { Volumes = volumes });
        AddHistory($"VOLUME [{string.Join(' ', added)}]", emptyLayer: true);
    }

    private void SetMaintainer(MaintainerInstruction instruction)
    {
        _config = _config with { Author = instruction.Maintainer };
        AddHistory($"MAINTAINER {instruction.Maintainer}", emptyLayer: true);
    }

    private void SetStopSignal(StopsignalInstruction instruction)
    {
        var signal = Expand(instruction.Signal, instruction);
        UpdateConfig(c => c with { StopSignal = signal });
        AddHistory($"STOPSIGNAL {signal}", emptyLayer: true);
    }

    private void SetHealthcheck(HealthcheckInstruction instruction)
    {
        var health = instruction.Disabled
            ? new HealthConfig { Test = ["NONE"] }
            : new HealthConfig
            {
                Test = instruction.Test,
                Interval = Nanoseconds(instruction.Interval),
                Timeout = Nanoseconds(instruction.Timeout),
                StartPeriod = Nanoseconds(instruction.StartPeriod),
                StartInterval = Nanoseconds(instruction.StartInterval),
                Retries = instruction.Retries,
            };
        UpdateConfig(c => c with { Healthcheck = health });
        // BuildKit prints the struct with Go's %+v: durations in Go's notation, zero ones as 0s.
        AddHistory($"HEALTHCHECK {{Test:[{string.Join(' ', health.Test ?? [])}] Interval:{GoDurationText(health.Interval)} Timeout:{GoDurationText(health.Timeout)} StartPeriod:{GoDurationText(health.StartPeriod)} StartInterval:{GoDurationText(health.StartInterval)} Retries:{health.Retries ?? 0}}}", emptyLayer: true);
    }

    private void SetShell(ShellInstruction instruction)
    {
        UpdateConfig(c => c with { Shell = instruction.Shell });
        AddHistory($"SHELL [{string.Join(' ', instruction.Shell)}]", emptyLayer: true);
    }

    private void AddOnbuild(OnbuildInstruction instruction)
    {
        // The trigger is kept as written after ONBUILD (BuildKit's form), keyword included.
        var expression = instruction.Expression.Trim();
        var trigger = expression.StartsWith(instruction.TriggerName, StringComparison.OrdinalIgnoreCase)
            ? expression
            : $"{instruction.TriggerName.ToUpperInvariant()} {expression}";
        UpdateConfig(c => c with { OnBuild = [.. c.OnBuild ?? [], trigger] });
        AddHistory($"ONBUILD {trigger}", emptyLayer: true);
    }

    private IReadOnlyList<string> CommandFor(CommandLine command) =>
        command.IsExecForm ? command.Args : [.. Shell, string.Join(' ', command.Args)];

    /// <summary><c>80</c> → <c>80/tcp</c>; <c>8000-8002/udp</c> → each port of the range, as Docker records them.</summary>
    private IEnumerable<string> ExpandPortRange(string word, Instruction at)
    {
        var slash = word.IndexOf('/');
        var ports = slash < 0 ? word : word[..slash];
        var protocol = slash < 0 ? "tcp" : word[(slash + 1)..].ToLowerInvariant();
        var dash = ports.IndexOf('-');
        if (!int.TryParse(dash < 0 ? ports : ports[..dash], out var first) || first is < 0 or > 65535
            || (dash >= 0 && (!int.TryParse(ports[(dash + 1)..], out var lastPort) || lastPort < first || lastPort > 65535))
            || protocol is not ("tcp" or "udp" or "sctp"))
            throw Error(at, $"invalid containerPort: {word}");
        var last = dash < 0 ? first : int.Parse(ports[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        for (var port = first; port <= last; port++) yield return $"{port}/{protocol}";
    }

    private static long? Nanoseconds(TimeSpan? duration) => duration is { } d ? d.Ticks * 100 : null;

    /// <summary>Go's %q of a string slice: <c>["sh" "-c" "echo hi"]</c>.</summary>
    private static string GoQuotedList(IEnumerable<string> values) =>
        "[" + string.Join(' ', values.Select(Parsing.GoQuote.Quote)) + "]";

    /// <summary>Go's time.Duration.String(): 1h2m3.5s, 300ms, 0s.</summary>
    internal static string GoDurationText(long? nanoseconds)
    {
        var ns = nanoseconds ?? 0;
        if (ns == 0) return "0s";
        var sign = ns < 0 ? "-" : "";
        var abs = (ulong)Math.Abs(ns);
        string Fraction(ulong value, ulong unit)
        {
            var whole = value / unit;
            var rest = value % unit;
            if (rest == 0) return whole.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var digits = unit.ToString(System.Globalization.CultureInfo.InvariantCulture).Length - 1;
            return $"{whole}.{rest.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0')}";
        }
        if (abs < 1_000) return $"{sign}{abs}ns";
        if (abs < 1_000_000) return $"{sign}{Fraction(abs, 1_000)}µs";
        if (abs < 1_000_000_000) return $"{sign}{Fraction(abs, 1_000_000)}ms";
        var hours = abs / 3_600_000_000_000;
        var minutes = abs % 3_600_000_000_000 / 60_000_000_000;
        var seconds = abs % 60_000_000_000;
        var text = hours > 0 ? $"{hours}h{minutes}m" : minutes > 0 ? $"{minutes}m" : "";
        return $"{sign}{text}{Fraction(seconds, 1_000_000_000)}s";
    }

    private static string JsonList(IEnumerable<string> values) =>
        System.Text.Json.JsonSerializer.Serialize(values, OciJson.Relaxed.IEnumerableString);
}
