using System.CommandLine;
using Builder.Build;
using Builder.Cli.Progress;
using Builder.Cli.Remote;
using Builder.Core.Context;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>builder build</c>: docker buildx's build command. Flags → <see cref="BuildRequest"/> (files
/// and environment are read here, on the client side) → the engine → display and files.
/// The engine is the daemon at <c>$BUILDER_HOST</c> or the default socket when one answers,
/// else this process (<see cref="EmbeddedEngine"/>): same output, files and exit codes.
/// </summary>
public static class BuildCommand
{
    private static readonly Option<string?> File = new("--file", "-f") { Description = "Name of the Dockerfile (default: CONTEXT/Dockerfile); - reads it from stdin" };
    private static readonly Option<string[]> Tags = new("--tag", "-t") { Description = "Name and optionally a tag (name:tag) for the image", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string[]> Outputs = new("--output", "-o") { Description = "Output destination (type=image|oci|docker|local|tar,dest=PATH,...)" };
    private static readonly Option<bool> NoCache = new("--no-cache") { Description = "Do not use cache when building the image" };
    private static readonly Option<string> ProgressMode = new("--progress") { Description = "Progress output: auto, plain, tty or rawjson", DefaultValueFactory = _ => "auto" };
    private static readonly Option<string[]> BuildArgs = new("--build-arg") { Description = "Set build-time variables (KEY=VALUE, or KEY to take it from the environment)" };
    private static readonly Option<string[]> BuildContexts = new("--build-context") { Description = "Additional build contexts (NAME=PATH or NAME=oci-layout://PATH[:TAG])" };
    private static readonly Option<string?> Target = new("--target") { Description = "Set the target build stage to build" };
    private static readonly Option<string?> PlatformOption = new("--platform") { Description = "Target platform (os/arch[/variant])" };
    private static readonly Option<string[]> Labels = new("--label") { Description = "Set metadata for an image (KEY=VALUE)" };
    private static readonly Option<bool> Push = new("--push") { Description = "Push the image to its registry (shorthand for --output=type=registry)" };
    private static readonly Option<bool> Pull = new("--pull") { Description = "Always attempt to pull all referenced images" };
    private static readonly Option<string?> IidFile = new("--iidfile") { Description = "Write the image ID to a file" };
    private static readonly Option<string?> MetadataFile = new("--metadata-file") { Description = "Write build result metadata (image and config digests) to a JSON file" };
    private static readonly Option<string[]> Secrets = new("--secret") { Description = "Secret to expose to the build (id=ID,src=PATH or id=ID,env=VAR)" };
    private static readonly Option<string[]> Ssh = new("--ssh") { Description = "SSH agent socket to expose to the build (default|ID[=SOCKET])" };
    private static readonly Option<string[]> Allow = new("--allow") { Description = "Extra privileged entitlement (security.insecure)" };
    private static readonly Option<string[]> CacheFrom = new("--cache-from") { Description = "External cache sources (type=local,src=DIR | type=registry,ref=REF | REF)" };
    private static readonly Option<string[]> CacheTo = new("--cache-to") { Description = "Cache export destinations (type=local,dest=DIR | type=registry,ref=REF | type=inline)[,mode=min|max]" };
    private static readonly Argument<string> ContextDir = new("CONTEXT") { Description = "The build context directory" };

    public static Command Create()
    {
        var command = new Command("build", "Build an image from a Dockerfile")
        {
            File, Tags, Outputs, NoCache, Push, Pull, ProgressMode, BuildArgs, BuildContexts, Target, PlatformOption, Labels, IidFile, MetadataFile, Secrets, Ssh, Allow, CacheFrom, CacheTo, ContextDir,
        };
        command.SetAction((parse, ct) => RunAsync(parse, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        var request = await ToRequestAsync(parse, ct);
        var display = ProgressDisplay.Create(parse.GetValue(ProgressMode)!, Console.Error);
        BuildResult result;
        try
        {
            using var daemon = await DaemonClient.ForBuildAsync(ct);
            result = daemon is null
                ? await EmbeddedEngine.BuildAsync(request, display, ct)
                : await RemoteBuild.RunAsync(daemon, request, display, ct);
        }
        finally
        {
            display.Complete();
        }
        if (result.ConfigDigest is { } id && parse.GetValue(IidFile) is { } iidFile)
            await System.IO.File.WriteAllTextAsync(iidFile, id, ct);
        if (parse.GetValue(MetadataFile) is { } metadataFile)
            await BuildMetadata.WriteAsync(metadataFile, result, parse.GetValue(Tags) ?? [], ct);
        return 0;
    }

    /// <summary>The flags, read and checked on the client side (files, environment) into one request.</summary>
    private static async Task<BuildRequest> ToRequestAsync(ParseResult parse, CancellationToken ct)
    {
        var contextDir = Path.GetFullPath(parse.GetRequiredValue(ContextDir));
        if (!Directory.Exists(contextDir)) throw new CliException($"unable to prepare context: path \"{parse.GetValue(ContextDir)}\" not found");
        var dockerfile = await DockerfileInput.ReadAsync(parse.GetValue(File), contextDir, ct);
        var namedContexts = NamedContexts.Parse(parse.GetValue(BuildContexts) ?? []);
        return new BuildRequest(dockerfile.Text, dockerfile.Name)
        {
            BuildArgs = KeyValues.Parse(parse.GetValue(BuildArgs) ?? [], "--build-arg", fromEnvironment: true),
            Labels = KeyValues.Parse(parse.GetValue(Labels) ?? [], "--label", fromEnvironment: false),
            Target = parse.GetValue(Target),
            Platform = parse.GetValue(PlatformOption),
            NamedContexts = namedContexts,
            Excludes = IgnoreFile.Load(contextDir, dockerfile.Path).Patterns.Select(p => (p.IsException ? "!" : "") + p.Pattern).ToList(),
            LocalDirectories = LocalDirectories(contextDir, namedContexts),
            Outputs = PlanOutputs(parse.GetValue(Outputs) ?? [], parse.GetValue(Tags) ?? [], parse.GetValue(Push)),
            AlwaysPull = parse.GetValue(Pull),
            Secrets = SessionOptions.ParseSecrets(parse.GetValue(Secrets) ?? []),
            SshAgents = SessionOptions.ParseSsh(parse.GetValue(Ssh) ?? []),
            Entitlements = SessionOptions.ParseAllow(parse.GetValue(Allow) ?? []),
            NoCache = parse.GetValue(NoCache),
            SourceDateEpoch = SourceDateEpoch.FromEnvironment(),
            CacheImports = [.. (parse.GetValue(CacheFrom) ?? []).Select(c => ParseCache(c, "--cache-from"))],
            CacheExports = [.. (parse.GetValue(CacheTo) ?? []).Select(c => ParseCache(c, "--cache-to"))],
        };
    }

    /// <summary>
    /// Where results go. Tags alone mean the local image store (docker's default). With -o, the
    /// outputs asked for, and the tags are still recorded in the store so the result can be used.
    /// </summary>
    private static IReadOnlyList<OutputTarget> PlanOutputs(IReadOnlyList<string> outputs, IReadOnlyList<string> tags, bool push)
    {
        var specs = outputs.Select(OutputSpec.Parse).ToList();
        if (push && tags.Count == 0) throw new CliException("--push needs an image name: add -t NAME");
        if (push) specs.Insert(0, new OutputSpec("registry", new Dictionary<string, string>()));
        else if (tags.Count > 0 && !specs.Any(s => s.Type is "image" or "registry"))
            specs.Insert(0, new OutputSpec("image", new Dictionary<string, string>()));
        return specs.Select(spec => new OutputTarget(spec.Type, spec.Attributes, NamesFor(spec, tags))).ToList();
    }

    private static IReadOnlyList<string> NamesFor(OutputSpec spec, IReadOnlyList<string> tags) =>
        spec.Attributes.TryGetValue("name", out var names) ? [.. tags, .. names.Split(',', StringSplitOptions.RemoveEmptyEntries)] : tags;

    private static IReadOnlyDictionary<string, string> LocalDirectories(string contextDir, IReadOnlyDictionary<string, NamedContext> named)
    {
        var dirs = new Dictionary<string, string> { [DockerfileFrontend.ContextName] = contextDir };
        foreach (var (name, context) in named)
            if (context.Kind == NamedContextKind.LocalDirectory) dirs[DockerfileFrontend.LocalNameFor(name)] = context.Value;
        return dirs;
    }

    /// <summary>
    /// buildx's cache flag syntax: comma-separated KEY=VALUE pairs with a <c>type</c>; a value with no
    /// <c>=</c> at all is an image reference (<c>type=registry,ref=VALUE</c>).
    /// </summary>
    internal static CacheOptions ParseCache(string text, string flag)
    {
        if (!text.Contains('='))
            return new CacheOptions("registry", new Dictionary<string, string> { ["ref"] = text });
        var attributes = new Dictionary<string, string>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new CliException($"invalid {flag} \"{text}\": expected KEY=VALUE pairs");
            attributes[part[..eq].Trim()] = part[(eq + 1)..];
        }
        return attributes.Remove("type", out var type) ? new CacheOptions(type, attributes)
            : throw new CliException($"invalid {flag} \"{text}\": type= is required");
    }
}
