using System.CommandLine;
using Builder.Api.V1;
using Builder.Build;
using Builder.Cli.Progress;
using Builder.Cli.Remote;
using Builder.Core.Context;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Cli.Commands;

/// <summary><c>builder ctl</c>: buildctl's shape, always through a daemon.</summary>
public static class CtlCommand
{
    private static readonly Option<string?> Addr = new("--addr") { Description = "Daemon address (default $BUILDER_HOST or unix:///run/builder/builder.sock)", Recursive = true };

    private static readonly Option<string> Frontend = new("--frontend") { Description = "Frontend (dockerfile.v0)", DefaultValueFactory = _ => "dockerfile.v0" };
    private static readonly Option<string[]> Locals = new("--local") { Description = "Local source NAME=DIR (context=DIR, dockerfile=DIR, or a named context)" };
    private static readonly Option<string[]> Opts = new("--opt") { Description = "Frontend option KEY=VALUE (target=, filename=, platform=, build-arg:K=, label:K=, context:NAME=)" };
    private static readonly Option<string[]> Outputs = new("--output", "-o") { Description = "Output type=image|oci|docker|local|tar,name=REF,dest=PATH" };
    private static readonly Option<string[]> ExportCache = new("--export-cache") { Description = "Cache export type=…,KEY=VALUE" };
    private static readonly Option<string[]> ImportCache = new("--import-cache") { Description = "Cache import type=…,KEY=VALUE" };
    private static readonly Option<bool> NoCache = new("--no-cache") { Description = "Run every step" };
    private static readonly Option<string> ProgressMode = new("--progress") { Description = "auto, plain, tty or rawjson", DefaultValueFactory = _ => "auto" };

    public static Command Create()
    {
        var build = new Command("build", "Build through the daemon") { Frontend, Locals, Opts, Outputs, ExportCache, ImportCache, NoCache, ProgressMode };
        build.SetAction((parse, ct) => BuildAsync(parse, ct));

        var workers = new Command("workers", "List the daemon's workers and debug counters");
        workers.SetAction(async (parse, ct) =>
        {
            using var client = await DaemonClient.ForCtlAsync(parse.GetValue(Addr), ct);
            var info = await client.Control.InfoAsync(new InfoRequest(), cancellationToken: ct);
            Console.WriteLine($"daemon {info.Version} (pid {info.Pid}), root {info.Root}");
            Console.WriteLine($"{"ID",-30} PLATFORMS");
            foreach (var worker in info.Workers)
                Console.WriteLine($"{worker.Id,-30} {string.Join(',', worker.Platforms)}  {string.Join(' ', worker.Labels.Select(l => $"{l.Key}={l.Value}"))}");
            foreach (var (key, value) in info.Counters.OrderBy(c => c.Key, StringComparer.Ordinal))
                Console.WriteLine($"{key} {value}");
            return 0;
        });

        return new Command("ctl", "buildctl-style client of the builder daemon")
        {
            Addr,
            build,
            GcCommands.Du(ctl: true, Addr),
            GcCommands.Prune(ctl: true, Addr),
            new Command("debug", "Debugging commands") { workers },
        };
    }

    private static async Task<int> BuildAsync(ParseResult parse, CancellationToken ct)
    {
        var locals = Pairs(parse.GetValue(Locals) ?? [], "--local").ToDictionary(p => p.Key, p => Path.GetFullPath(p.Value));
        foreach (var (name, dir) in locals)
            if (!Directory.Exists(dir)) throw new CliException($"--local {name}: {dir} is not a directory");
        var opts = Pairs(parse.GetValue(Opts) ?? [], "--opt").ToDictionary();
        if (!locals.TryGetValue("context", out var contextDir) && !locals.ContainsKey("dockerfile"))
            throw new CliException("--local context=DIR (and/or dockerfile=DIR) is required");

        var dockerfilePath = Path.Combine(locals.GetValueOrDefault("dockerfile") ?? contextDir!, opts.GetValueOrDefault("filename") ?? "Dockerfile");
        var dockerfile = await DockerfileInput.ReadAsync(dockerfilePath, contextDir ?? Path.GetDirectoryName(dockerfilePath)!, ct);

        var directories = new Dictionary<string, string>();
        if (contextDir is not null) directories[DockerfileFrontend.ContextName] = contextDir;
        var named = new Dictionary<string, NamedContext>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in opts.Where(o => o.Key.StartsWith("context:", StringComparison.Ordinal)))
        {
            var name = key["context:".Length..];
            if (value.StartsWith("local:", StringComparison.Ordinal))
            {
                var local = value["local:".Length..];
                if (!locals.TryGetValue(local, out var dir)) throw new CliException($"--opt {key}={value}: no --local {local}=DIR");
                named[name] = new NamedContext(NamedContextKind.LocalDirectory, dir);
                directories[DockerfileFrontend.LocalNameFor(name)] = dir;
            }
            else named[name] = NamedContexts.Parse([$"{name}={value}"])[name];
        }
        var unknown = opts.Keys.Where(k => !(k is "target" or "platform" or "filename" || k.StartsWith("build-arg:", StringComparison.Ordinal)
            || k.StartsWith("label:", StringComparison.Ordinal) || k.StartsWith("context:", StringComparison.Ordinal))).ToList();
        if (unknown.Count > 0) throw new CliException($"unknown --opt {string.Join(", ", unknown)}");
        if (parse.GetValue(Frontend) != "dockerfile.v0") throw new CliException($"unsupported frontend \"{parse.GetValue(Frontend)}\" (supported: dockerfile.v0)");

        var request = new BuildRequest(dockerfile.Text, dockerfile.Name)
        {
            BuildArgs = Prefixed(opts, "build-arg:"),
            Labels = Prefixed(opts, "label:"),
            Target = opts.GetValueOrDefault("target"),
            Platform = opts.GetValueOrDefault("platform"),
            NamedContexts = named,
            Excludes = contextDir is null ? [] : IgnoreFile.Load(contextDir, dockerfile.Path).Patterns.Select(p => (p.IsException ? "!" : "") + p.Pattern).ToList(),
            LocalDirectories = directories,
            Outputs = (parse.GetValue(Outputs) ?? []).Select(ParseOutput).ToList(),
            NoCache = parse.GetValue(NoCache),
            SourceDateEpoch = SourceDateEpoch.FromEnvironment(),
            CacheImports = (parse.GetValue(ImportCache) ?? []).Select(c => ParseCache(c, "--import-cache")).ToList(),
            CacheExports = (parse.GetValue(ExportCache) ?? []).Select(c => ParseCache(c, "--export-cache")).ToList(),
        };

        using var client = await DaemonClient.ForCtlAsync(parse.GetValue(Addr), ct);
        var display = ProgressDisplay.Create(parse.GetValue(ProgressMode)!, Console.Error);
        try { await RemoteBuild.RunAsync(client, request, display, ct); }
        finally { display.Complete(); }
        return 0;
    }

    private static OutputTarget ParseOutput(string text)
    {
        OutputSpec spec;
        try { spec = OutputSpec.Parse(text); }
        catch (FormatException e) { throw new CliException(e.Message); }
        var names = spec.Attributes.GetValueOrDefault("name")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return new OutputTarget(spec.Type, spec.Attributes, names);
    }

    private static Build.CacheOptions ParseCache(string text, string flag)
    {
        var attrs = Pairs(text.Split(','), flag).ToDictionary();
        return attrs.Remove("type", out var type) ? new Build.CacheOptions(type, attrs) : throw new CliException($"{flag} {text}: type= is required");
    }

    private static Dictionary<string, string> Prefixed(Dictionary<string, string> opts, string prefix) =>
        opts.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(o => o.Key[prefix.Length..], o => o.Value);

    private static IEnumerable<KeyValuePair<string, string>> Pairs(IEnumerable<string> values, string flag)
    {
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0) throw new CliException($"invalid {flag} \"{value}\": expected KEY=VALUE");
            yield return new(value[..eq], value[(eq + 1)..]);
        }
    }
}
