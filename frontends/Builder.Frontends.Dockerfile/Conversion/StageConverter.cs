using System.Collections.Immutable;
using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Instructions;
using Builder.Frontends.Dockerfile.Shell;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>
/// Converts one stage, instruction by instruction, the way BuildKit's dockerfile2llb does:
/// filesystem instructions (RUN, COPY, ADD, WORKDIR) add a vertex over the stage's current
/// filesystem; the others only change the image config. Every instruction adds a history entry.
/// </summary>
internal sealed partial class StageConverter
{
    internal static readonly string[] DefaultShell = ["/bin/sh", "-c"];
    internal const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly DockerfileBuild _build;
    private readonly Stage _stage;
    private readonly BuildScope _scope = new();
    private int _totalSteps;
    private Vertex? _fs;
    private ImageConfig _config = new();
    private Platform _platform;
    private int _step;
    private bool _cmdSetInStage;

    public StageConverter(DockerfileBuild build, Stage stage)
    {
        _build = build;
        _stage = stage;
        _platform = build.TargetPlatform;
        _totalSteps = 1 + stage.Instructions.Count(i => i is RunInstruction or CopyInstruction or AddInstruction or WorkdirInstruction);
    }

    private string File => _build.Request.DockerfileName;

    private IReadOnlyList<string> Env => _config.Config.Env ?? [];
    private string WorkingDir => string.IsNullOrEmpty(_config.Config.WorkingDir) ? "/" : _config.Config.WorkingDir;
    private IReadOnlyList<string> Shell => _config.Config.Shell is { Count: > 0 } shell ? shell : DefaultShell;

    public async Task<StageResult> ConvertAsync(CancellationToken ct)
    {
        var triggers = await StartFromAsync(ct).ConfigureAwait(false);
        foreach (var trigger in triggers)
            await ApplyAsync(trigger, ct).ConfigureAwait(false);
        foreach (var instruction in _stage.Instructions)
            await ApplyAsync(instruction, ct).ConfigureAwait(false);
        return new StageResult(_fs, _config, _platform);
    }

    private Task ApplyAsync(Instruction instruction, CancellationToken ct)
    {
        switch (instruction)
        {
            case RunInstruction run: return RunAsync(run, ct);
            case CopyInstruction copy: return CopyAsync(copy, ct);
            case AddInstruction add: Add(add); break;
            case WorkdirInstruction workdir: Workdir(workdir); break;
            case EnvInstruction env: SetEnv(env); break;
            case ArgInstruction arg: DeclareArgs(arg); break;
            case LabelInstruction label: SetLabels(label); break;
            case UserInstruction user: SetUser(user); break;
            case CmdInstruction cmd: SetCmd(cmd); break;
            case EntrypointInstruction entrypoint: SetEntrypoint(entrypoint); break;
            case ExposeInstruction expose: Expose(expose); break;
            case VolumeInstruction volume: AddVolumes(volume); break;
            case MaintainerInstruction maintainer: SetMaintainer(maintainer); break;
            case StopsignalInstruction stopSignal: SetStopSignal(stopSignal); break;
            case HealthcheckInstruction healthcheck: SetHealthcheck(healthcheck); break;
            case ShellInstruction shell: SetShell(shell); break;
            case OnbuildInstruction onbuild: AddOnbuild(onbuild); break;
            default: throw Error(instruction, $"{instruction.GetType().Name} is not supported");
        }
        return Task.CompletedTask;
    }

    // ---- FROM -------------------------------------------------------------------------------

    /// <returns>the base's ONBUILD triggers, parsed, to run before the stage's own instructions.</returns>
    private async Task<IReadOnlyList<Instruction>> StartFromAsync(CancellationToken ct)
    {
        var from = _stage.From;
        var metaEnv = _build.MetaScope.ExpansionEnvironment([]);
        var baseName = _build.Expand(_stage.BaseName, metaEnv, from.Location);
        if (_stage.Platform is { } platformFlag)
            _platform = _build.ParsePlatform(_build.Expand(platformFlag, metaEnv, from.Location), "--platform", from.Location);
        if (string.IsNullOrWhiteSpace(baseName))
            throw Error(from, $"base name ({_stage.BaseName}) should not be blank");

        if (_build.FindNamedContext(baseName) is { } named)
            await StartFromNamedContextAsync(baseName, named, ct).ConfigureAwait(false);
        else if (_build.FindStage(baseName, _stage.Index) is { } parent)
            await StartFromStageAsync(parent, ct).ConfigureAwait(false);
        else if (string.Equals(baseName, "scratch", StringComparison.OrdinalIgnoreCase))
            StartFromScratch();
        else
            await StartFromImageAsync(baseName, ct).ConfigureAwait(false);

        // A base image's ONBUILD triggers are consumed by this build, never inherited.
        var triggers = ParseTriggers(_config.Config.OnBuild ?? []);
        _config = _config with { Config = _config.Config with { OnBuild = null } };
        return triggers;
    }

    /// <summary>
    /// Each trigger is an instruction's text; it is parsed as if it stood right after this FROM
    /// (errors point at the FROM line) and converted like any other instruction, in order.
    /// </summary>
    private IReadOnlyList<Instruction> ParseTriggers(IReadOnlyList<string> triggers)
    {
        var parsed = new List<Instruction>();
        foreach (var trigger in triggers)
        {
            var keyword = trigger.TrimStart().Split(' ', 2)[0].ToUpperInvariant();
            if (keyword is "ONBUILD" or "FROM" or "MAINTAINER")
                throw Error(_stage.From, $"{keyword} isn't allowed as an ONBUILD trigger");
            Instructions.Dockerfile file;
            try { file = Instructions.Dockerfile.Parse($"FROM scratch\n{trigger}\n", File); }
            catch (DockerfileException e) { throw Error(_stage.From, $"invalid ONBUILD trigger \"{trigger}\" of the base image: {e.Message}"); }
            foreach (var instruction in file.Stages[0].Instructions)
                parsed.Add(instruction with { Location = _stage.From.Location, EndLine = _stage.From.EndLine });
        }
        _totalSteps += parsed.Count(i => i is RunInstruction or CopyInstruction or AddInstruction or WorkdirInstruction);
        return parsed;
    }

    private void StartFromScratch()
    {
        _fs = null;
        _config = new ImageConfig
        {
            Architecture = _platform.Architecture,
            Os = _platform.Os,
            Variant = _platform.Variant,
            Config = new ContainerConfig { Env = [$"PATH={DefaultPath}"] },
        };
        NextStep($"FROM scratch");
    }

    private async Task StartFromStageAsync(Stage parent, CancellationToken ct)
    {
        var result = await _build.StageAsync(parent, ct).ConfigureAwait(false);
        _fs = result.Fs;
        _config = result.Config;
        _platform = result.Platform;
        NextStep($"FROM {parent.Name ?? parent.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private async Task StartFromImageAsync(string reference, CancellationToken ct)
    {
        var name = NormalizeReference(reference, _stage.From);
        var image = await ResolveAsync(name, _stage.From, ct).ConfigureAwait(false);
        _config = image.Config;
        _platform = image.Config.Platform;
        var step = NextStep($"FROM {name}");
        _fs = new Vertex(new ImageSourceOp(Pinned(name, image.ManifestDigest), _platform.ToString()), [], step, Location(_stage.From));
    }

    private async Task StartFromNamedContextAsync(string name, NamedContext named, CancellationToken ct)
    {
        switch (named.Kind)
        {
            case NamedContextKind.Image:
                await StartFromImageAsync(named.Value, ct).ConfigureAwait(false);
                break;
            case NamedContextKind.OciLayout:
                var image = await ResolveAsync(named.Value, _stage.From, ct).ConfigureAwait(false);
                _config = image.Config;
                _platform = image.Config.Platform;
                var step = NextStep($"FROM {name} ({named.Value})");
                _fs = new Vertex(new ImageSourceOp(Pinned(named.Value, image.ManifestDigest), _platform.ToString()), [], step, Location(_stage.From));
                break;
            case NamedContextKind.LocalDirectory:
                StartFromScratch();
                var local = LocalContextVertex(name);
                _fs = new Vertex(new FileOp(-1, [new CopyAction(0, "/", "/", new CopyOptions(Excludes: []))]), [local], $"[context {name}] copy", Location(_stage.From));
                break;
        }
    }

    private async Task<ResolvedImage> ResolveAsync(string reference, Instruction at, CancellationToken ct)
    {
        try
        {
            return await _build.ResolveImageAsync(reference, _platform, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ImageNotFoundException or Builder.Core.Registry.RegistryException)
        {
            // Not found, unreachable, unauthorised: the user's to fix, so name the image and the line.
            throw Error(at, $"failed to resolve source metadata for {reference}: {e.Message}");
        }
    }

    /// <summary>Pins a reference to the manifest resolved now, so the solve uses exactly what the config was read from.</summary>
    private static string Pinned(string reference, Digest manifest)
    {
        var at = reference.IndexOf('@');
        return (at >= 0 ? reference[..at] : reference) + "@" + manifest;
    }

    private string NormalizeReference(string reference, Instruction at)
    {
        try { return ImageReference.Parse(reference).ToString(); }
        catch (FormatException e) { throw Error(at, e.Message); }
    }

    // ---- helpers shared by the instruction handlers ----------------------------------------

    private IShellEnvironment ExpansionEnv => _scope.ExpansionEnvironment(Env);

    private string Expand(string word, Instruction at) => _build.Expand(word, ExpansionEnv, at.Location);

    private string? ExpandOptional(string? word, Instruction at) => word is null ? null : Expand(word, at);

    /// <summary>The progress label of the next filesystem step, e.g. <c>[build 2/4] RUN make</c>.</summary>
    private string NextStep(string description)
    {
        _step++;
        var stageLabel = _build.Dockerfile.Stages.Count > 1 ? $"{_stage.Name ?? $"stage-{_stage.Index}"} " : "";
        return $"[{stageLabel}{_step}/{_totalSteps}] {description}";
    }

    private SourceLocation Location(Instruction instruction) =>
        new(File, instruction.Location.Line, instruction.EndLine);

    private DockerfileException Error(Instruction at, string message) =>
        new(message, at.Location);

    private void AddHistory(string createdBy, bool emptyLayer)
    {
        _config = _config with
        {
            History = [.. _config.History, new HistoryEntry
            {
                // Dated at export (ImageAssembler): this step's result may be a cached one.
                Created = _build.Request.SourceDateEpoch,
                CreatedBy = createdBy,
                Comment = "buildkit.dockerfile.v0",
                EmptyLayer = emptyLayer ? true : null,
            }],
        };
    }

    private void UpdateConfig(Func<ContainerConfig, ContainerConfig> change) =>
        _config = _config with { Config = change(_config.Config) };

    private Vertex LocalContextVertex(string name) =>
        new(new LocalSourceOp(DockerfileFrontend.LocalNameFor(name), []), [], $"[internal] load build context {name}");
}
