using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Instructions;
using Builder.Frontends.Dockerfile.Shell;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>
/// The Dockerfile frontend: text → a build graph and the image config of the target stage.
/// Only the stages the target needs are converted (and only their base images resolved), so
/// an unused broken stage cannot fail a build. It reads no files and runs nothing; base image
/// configs come from the <see cref="IImageResolver"/> it is given.
/// </summary>
public static class DockerfileFrontend
{
    /// <summary>The local source name of the main build context.</summary>
    public const string ContextName = "context";

    public static string LocalNameFor(string namedContext) => $"context:{namedContext.ToLowerInvariant()}";

    public static async Task<FrontendResult> ConvertAsync(FrontendRequest request, IImageResolver resolver, CancellationToken ct)
    {
        var dockerfile = Instructions.Dockerfile.Parse(request.DockerfileText, request.DockerfileName);
        var build = new DockerfileBuild(request, dockerfile, resolver);
        return await build.ConvertAsync(ct).ConfigureAwait(false);
    }
}

/// <summary>One conversion: the parsed file, the request, and the stages converted so far.</summary>
internal sealed class DockerfileBuild
{
    private readonly FrontendRequest _request;
    private readonly Instructions.Dockerfile _dockerfile;
    private readonly IImageResolver _resolver;
    private readonly ShellLexer _lexer;
    private readonly Dictionary<int, Task<StageResult>> _stages = [];
    private readonly Dictionary<(string Reference, string Platform), Task<ResolvedImage>> _images = [];
    private readonly HashSet<string> _usedBuildArgs = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private Vertex? _context;

    public DockerfileBuild(FrontendRequest request, Instructions.Dockerfile dockerfile, IImageResolver resolver)
    {
        _request = request;
        _dockerfile = dockerfile;
        _resolver = resolver;
        _lexer = new ShellLexer(dockerfile.EscapeToken);
        TargetPlatform = request.Platform is { } p ? ParsePlatform(p, "--platform") : Platform.Host;
        MetaScope = BuildMetaScope();
    }

    public Platform TargetPlatform { get; }

    /// <summary>ARGs before the first FROM plus the predefined platform ARGs: what FROM lines may use.</summary>
    public BuildScope MetaScope { get; }

    public FrontendRequest Request => _request;
    public ShellLexer Lexer => _lexer;
    public Instructions.Dockerfile Dockerfile => _dockerfile;

    public async Task<FrontendResult> ConvertAsync(CancellationToken ct)
    {
        if (_dockerfile.Stages.Count == 0)
            throw new DockerfileException("the Dockerfile has no FROM instruction: nothing to build", new Location(_request.DockerfileName, 1, 1));

        var target = FindTarget();
        var result = await StageAsync(target, ct).ConfigureAwait(false);
        WarnAboutUnusedBuildArgs();
        // Undated unless SOURCE_DATE_EPOCH: the image assembler dates the config from its history,
        // whose steps may come from the cache of an earlier build.
        var config = result.Config with { Created = _request.SourceDateEpoch };
        return new FrontendResult(new Definition(result.Fs), WithRequestLabels(config), _warnings);
    }

    /// <summary>Converts a stage once, however many stages depend on it.</summary>
    public Task<StageResult> StageAsync(Stage stage, CancellationToken ct)
    {
        lock (_stages)
        {
            if (!_stages.TryGetValue(stage.Index, out var task))
                _stages[stage.Index] = task = new StageConverter(this, stage).ConvertAsync(ct);
            return task;
        }
    }

    /// <summary>An earlier stage by name (case-insensitive) or index, as FROM and COPY --from may name one.</summary>
    public Stage? FindStage(string reference, int beforeIndex)
    {
        var earlier = _dockerfile.Stages.Take(beforeIndex);
        if (int.TryParse(reference, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            return index < beforeIndex ? _dockerfile.Stages[index] : null;
        return earlier.LastOrDefault(s => string.Equals(s.Name, reference, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Resolves an image once per build, however many stages or COPY --from name it: one registry
    /// round trip, and every use sees the same manifest.
    /// </summary>
    public Task<ResolvedImage> ResolveImageAsync(string reference, Platform platform, CancellationToken ct)
    {
        lock (_images)
        {
            var key = (reference, platform.ToString());
            if (!_images.TryGetValue(key, out var task))
                _images[key] = task = _resolver.ResolveAsync(reference, platform, ct);
            return task;
        }
    }

    public NamedContext? FindNamedContext(string name) =>
        _request.NamedContexts.TryGetValue(name, out var context) ? context : null;

    /// <summary>The main build context, one vertex for every COPY that reads it.</summary>
    public Vertex Context => _context ??= new Vertex(
        new LocalSourceOp(DockerfileFrontend.ContextName, [.. _request.Excludes]),
        "[internal] load build context");

    public string? BuildArg(string name)
    {
        if (!_request.BuildArgs.TryGetValue(name, out var value)) return null;
        lock (_usedBuildArgs) _usedBuildArgs.Add(name);
        return value;
    }

    public void Warn(string warning)
    {
        lock (_warnings) _warnings.Add(warning);
    }

    public string Expand(string word, IShellEnvironment env, Location location)
    {
        try { return _lexer.ProcessWord(word, env); }
        catch (ShellExpansionException e) { throw new DockerfileException(e.Message, location); }
    }

    public Platform ParsePlatform(string text, string what, Location? location = null)
    {
        try { return Platform.Parse(text); }
        catch (FormatException e)
        {
            throw location is null ? new FormatException($"invalid {what}: {e.Message}") : new DockerfileException($"invalid {what}: {e.Message}", location);
        }
    }

    private Stage FindTarget()
    {
        if (_request.Target is not { Length: > 0 } target) return _dockerfile.Stages[^1];
        return _dockerfile.Stages.LastOrDefault(s => string.Equals(s.Name, target, StringComparison.OrdinalIgnoreCase))
            ?? throw new DockerfileException($"failed to parse target: target stage \"{target}\" could not be found", new Location(_request.DockerfileName, 1, 1));
    }

    private BuildScope BuildMetaScope()
    {
        var scope = new BuildScope();
        foreach (var (name, value) in PredefinedPlatformArgs()) scope.DeclareArg(name, value);
        foreach (var arg in _dockerfile.MetaArgs)
        {
            foreach (var declaration in arg.Args)
            {
                var value = BuildArg(declaration.Name)
                    ?? (declaration.DefaultValue is { } d ? Expand(d, scope.ExpansionEnvironment([]), arg.Location) : null);
                scope.DeclareArg(declaration.Name, value);
            }
        }
        return scope;
    }

    /// <summary>BuildKit's automatic platform ARGs (usable after <c>ARG TARGETOS</c> and friends).</summary>
    private IEnumerable<(string, string)> PredefinedPlatformArgs()
    {
        var build = Platform.Host;
        var target = TargetPlatform;
        yield return ("BUILDPLATFORM", build.ToString());
        yield return ("BUILDOS", build.Os);
        yield return ("BUILDARCH", build.Architecture);
        yield return ("BUILDVARIANT", build.Variant ?? "");
        yield return ("TARGETPLATFORM", target.ToString());
        yield return ("TARGETOS", target.Os);
        yield return ("TARGETARCH", target.Architecture);
        yield return ("TARGETVARIANT", target.Variant ?? "");
    }

    private void WarnAboutUnusedBuildArgs()
    {
        var unused = _request.BuildArgs.Keys.Where(k => !_usedBuildArgs.Contains(k) && !ProxyArgs.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0) Warn($"One or more build-args [{string.Join(' ', unused)}] were not consumed");
    }

    private ImageConfig WithRequestLabels(ImageConfig config)
    {
        if (_request.Labels.Count == 0) return config;
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in config.Config.Labels ?? new Dictionary<string, string>()) labels[k] = v;
        foreach (var (k, v) in _request.Labels) labels[k] = v;
        return config with { Config = config.Config with { Labels = labels } };
    }

    /// <summary>Proxy variables are always accepted as build args and never reported unused (Docker's rule).</summary>
    internal static readonly HashSet<string> ProxyArgs = new(StringComparer.Ordinal)
    {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    };
}

/// <summary>What a converted stage leaves for those that build on it: its filesystem and config.</summary>
/// <param name="Fs">null for an empty filesystem (FROM scratch with nothing added).</param>
internal sealed record StageResult(Vertex? Fs, ImageConfig Config, Platform Platform);
