using System.CommandLine;
using Builder.Core.Engine;
using Builder.Cli.Progress;
using Builder.Core.Context;
using Builder.Core.Export;
using Builder.Core.Solver;
using Builder.Core.State;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>builder build</c>: docker buildx's build command, run by the embedded engine.
/// Dockerfile → graph (frontend), graph → snapshots (solver), snapshots → outputs (exporters).
/// </summary>
public static class BuildCommand
{
    private static readonly Option<string?> File = new("--file", "-f") { Description = "Name of the Dockerfile (default: CONTEXT/Dockerfile); - reads it from stdin" };
    private static readonly Option<string[]> Tags = new("--tag", "-t") { Description = "Name and optionally a tag (name:tag) for the image", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string[]> Outputs = new("--output", "-o") { Description = "Output destination (type=image|oci|docker|local|tar,dest=PATH,...)" };
    private static readonly Option<bool> NoCache = new("--no-cache") { Description = "Do not use cache when building the image" };
    private static readonly Option<string> ProgressMode = new("--progress") { Description = "Progress output: auto, plain or tty", DefaultValueFactory = _ => "auto" };
    private static readonly Option<string[]> BuildArgs = new("--build-arg") { Description = "Set build-time variables (KEY=VALUE, or KEY to take it from the environment)" };
    private static readonly Option<string[]> BuildContexts = new("--build-context") { Description = "Additional build contexts (NAME=PATH or NAME=oci-layout://PATH[:TAG])" };
    private static readonly Option<string?> Target = new("--target") { Description = "Set the target build stage to build" };
    private static readonly Option<string?> PlatformOption = new("--platform") { Description = "Target platform (os/arch[/variant])" };
    private static readonly Option<string[]> Labels = new("--label") { Description = "Set metadata for an image (KEY=VALUE)" };
    private static readonly Option<string?> IidFile = new("--iidfile") { Description = "Write the image ID to a file" };
    private static readonly Option<string[]> Secrets = new("--secret") { Description = "Secret to expose to the build (id=ID,src=PATH or id=ID,env=VAR)" };
    private static readonly Option<string[]> Ssh = new("--ssh") { Description = "SSH agent socket to expose to the build (default|ID[=SOCKET])" };
    private static readonly Option<string[]> Allow = new("--allow") { Description = "Extra privileged entitlement (security.insecure)" };
    private static readonly Argument<string> ContextDir = new("CONTEXT") { Description = "The build context directory" };

    public static Command Create()
    {
        var command = new Command("build", "Build an image from a Dockerfile")
        {
            File, Tags, Outputs, NoCache, ProgressMode, BuildArgs, BuildContexts, Target, PlatformOption, Labels, IidFile, Secrets, Ssh, Allow, ContextDir,
        };
        command.SetAction((parse, ct) => RunAsync(parse, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        var contextDir = Path.GetFullPath(parse.GetRequiredValue(ContextDir));
        if (!Directory.Exists(contextDir)) throw new CliException($"unable to prepare context: path \"{parse.GetValue(ContextDir)}\" not found");
        var dockerfile = await DockerfileInput.ReadAsync(parse.GetValue(File), contextDir, ct);
        var outputs = PlanOutputs(parse.GetValue(Outputs) ?? [], parse.GetValue(Tags) ?? []);
        var sourceDateEpoch = SourceDateEpoch.FromEnvironment();

        var root = StateRoot.FromEnvironment();
        using var stateLock = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine($"waiting for another builder to release {root.Path} ..."), ct);
        await using var worker = await Worker.OpenAsync(root, ct);

        var display = ProgressDisplay.Create(parse.GetValue(ProgressMode)!, Console.Error);
        try
        {
            var request = new FrontendRequest(dockerfile.Text, dockerfile.Name)
            {
                BuildArgs = KeyValues.Parse(parse.GetValue(BuildArgs) ?? [], "--build-arg", fromEnvironment: true),
                Labels = KeyValues.Parse(parse.GetValue(Labels) ?? [], "--label", fromEnvironment: false),
                Target = parse.GetValue(Target),
                Platform = parse.GetValue(PlatformOption),
                NamedContexts = NamedContexts.Parse(parse.GetValue(BuildContexts) ?? []),
                Excludes = IgnoreFile.Load(contextDir, dockerfile.Path).Patterns.Select(p => (p.IsException ? "!" : "") + p.Pattern).ToList(),
                SourceDateEpoch = sourceDateEpoch,
            };
            var converted = await DockerfileFrontend.ConvertAsync(request, worker.ImageResolver, ct);
            foreach (var warning in converted.Warnings) display.Message($"WARNING: {warning}");

            var session = new SolveSession(display, LocalDirectories(contextDir, request.NamedContexts))
            {
                NoCache = parse.GetValue(NoCache),
                SourceDateEpoch = sourceDateEpoch,
                Secrets = new SecretSources(SessionOptions.ParseSecrets(parse.GetValue(Secrets) ?? [])),
                SshAgents = SessionOptions.ParseSsh(parse.GetValue(Ssh) ?? []),
                Entitlements = SessionOptions.ParseAllow(parse.GetValue(Allow) ?? []),
            };
            OpOutput result;
            try { result = await worker.Solver.SolveAsync(converted.Definition, session, ct); }
            catch (SolveException failure) when (!ct.IsCancellationRequested)
            {
                throw new BuildFailedException(SolveErrorReport.Format(failure, dockerfile.Text));
            }

            var build = new BuildOutput(result.SnapshotId, converted.Config);
            var options = new ExportOptions { SourceDateEpoch = sourceDateEpoch };
            ExportResult? last = null;
            foreach (var output in outputs)
            {
                display.Message($"exporting to {output.Type}{(output.Dest is { } d ? $" {d}" : "")}");
                last = await worker.ExporterFor(output.Type, output.Attributes, outputs.TagsFor(output)).ExportAsync(build, options, ct);
            }
            if (last?.ConfigDigest is { } id)
            {
                display.Message($"writing image {id}");
                if (parse.GetValue(IidFile) is { } iidFile) await System.IO.File.WriteAllTextAsync(iidFile, id.ToString(), ct);
            }
            return 0;
        }
        finally
        {
            display.Complete();
        }
    }

    /// <summary>
    /// Where results go. Tags alone mean the local image store (docker's default). With -o, the
    /// outputs asked for, and the tags are still recorded in the store so the result can be used.
    /// </summary>
    private static OutputPlan PlanOutputs(IReadOnlyList<string> outputs, IReadOnlyList<string> tags)
    {
        var specs = outputs.Select(OutputSpec.Parse).ToList();
        if (tags.Count > 0 && !specs.Any(s => s.Type == "image"))
            specs.Insert(0, new OutputSpec("image", new Dictionary<string, string>()));
        return new OutputPlan(specs, tags);
    }

    private static IReadOnlyDictionary<string, string> LocalDirectories(string contextDir, IReadOnlyDictionary<string, NamedContext> named)
    {
        var dirs = new Dictionary<string, string> { [DockerfileFrontend.ContextName] = contextDir };
        foreach (var (name, context) in named)
            if (context.Kind == NamedContextKind.LocalDirectory) dirs[DockerfileFrontend.LocalNameFor(name)] = context.Value;
        return dirs;
    }

    private sealed class OutputPlan(List<OutputSpec> specs, IReadOnlyList<string> tags) : List<OutputSpec>(specs)
    {
        public IReadOnlyList<string> TagsFor(OutputSpec spec) =>
            spec.Attributes.TryGetValue("name", out var names) ? [.. tags, .. names.Split(',', StringSplitOptions.RemoveEmptyEntries)] : tags;
    }
}
