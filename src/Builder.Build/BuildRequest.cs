using Builder.Frontends.Dockerfile.Conversion;

using Builder.Core.Solver;

namespace Builder.Build;

/// <summary>
/// Everything one build is asked to do, already resolved by the client: the Dockerfile text,
/// the frontend options, where the local sources are on this host, the outputs.
/// <para>
/// A new build option is one more init property here (with a default that means "as before"),
/// set by <c>BuildCommand</c> and read by <see cref="BuildRunner"/>; the daemon's request
/// mapping (<c>Builder.Daemon</c>) carries it over the API.
/// </para>
/// </summary>
public sealed record BuildRequest(string DockerfileText, string DockerfileName)
{
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The stage to build; null builds the last one.</summary>
    public string? Target { get; init; }

    /// <summary>os/arch[/variant]; null is the host's.</summary>
    public string? Platform { get; init; }

    /// <summary>--build-context NAME=VALUE. Local directories among them must also be in <see cref="LocalDirectories"/>.</summary>
    public IReadOnlyDictionary<string, NamedContext> NamedContexts { get; init; } = new Dictionary<string, NamedContext>();

    /// <summary>.dockerignore patterns of the main context (recorded in the graph, applied by the checksummer).</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>Local source name (<c>context</c>, named contexts) → a directory on this host.</summary>
    public IReadOnlyDictionary<string, string> LocalDirectories { get; init; } = new Dictionary<string, string>();

    /// <summary>Where results go, in order. Empty: build only (the result stays in the cache).</summary>
    public IReadOnlyList<OutputTarget> Outputs { get; init; } = [];

    public bool NoCache { get; init; }

    /// <summary>--pull: ask registries for every base image even when it is stored locally.</summary>
    public bool AlwaysPull { get; init; }

    /// <summary>--secret: where each secret's value is read from, in the engine's process, only by the step that mounts it.</summary>
    public IReadOnlyList<SecretSource> Secrets { get; init; } = [];

    /// <summary>--ssh: agent id → socket path.</summary>
    public IReadOnlyDictionary<string, string> SshAgents { get; init; } = new Dictionary<string, string>();

    /// <summary>--allow: entitlements granted to this build (security.insecure).</summary>
    public IReadOnlySet<string> Entitlements { get; init; } = new HashSet<string>();

    /// <summary>Whether the build hands the sandbox something only this client has (secrets, agent sockets).</summary>
    public bool UsesClientSession => Secrets.Count > 0 || SshAgents.Count > 0;

    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>--import-cache / --cache-from entries (type + attributes).</summary>
    public IReadOnlyList<CacheOptions> CacheImports { get; init; } = [];

    /// <summary>--export-cache / --cache-to entries (type + attributes).</summary>
    public IReadOnlyList<CacheOptions> CacheExports { get; init; } = [];

    /// <summary>The request the Dockerfile frontend reads.</summary>
    public FrontendRequest ToFrontendRequest() => new(DockerfileText, DockerfileName)
    {
        BuildArgs = BuildArgs,
        Labels = Labels,
        Target = Target,
        Platform = Platform,
        NamedContexts = NamedContexts,
        Excludes = Excludes,
        SourceDateEpoch = SourceDateEpoch,
        // The engine's machine decides what it can emulate, so this is read where the build runs.
        EmulatedArchitectures = Emulators.Registered(),
    };
}

/// <summary>One output: an exporter type (image, oci, docker, local, tar), its attributes and the image names it records.</summary>
public sealed record OutputTarget(string Type, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> Names)
{
    public string? Dest => Attributes.GetValueOrDefault("dest");

    /// <summary>The destination as the user named it, when <see cref="Dest"/> is a stand-in (the daemon's temp file it streams back).</summary>
    public string? ShownAs { get; init; }

    /// <summary>The output type as the user named it, when the engine exports it as another (the daemon sends <c>local</c> as a tar).</summary>
    public string? ShownType { get; init; }
}

/// <summary>A cache import or export: <c>type=registry,ref=…</c>, <c>type=local,src=…</c>, …</summary>
public sealed record CacheOptions(string Type, IReadOnlyDictionary<string, string> Attributes);

/// <summary>What a finished build made: the last image output's digests (null when no output makes an image).</summary>
public sealed record BuildResult(string? ManifestDigest, string? ConfigDigest)
{
    /// <summary>Exporter results by key (BuildKit's exporter response: <c>containerimage.digest</c>, …).</summary>
    public IReadOnlyDictionary<string, string> ExporterResponse { get; init; } = new Dictionary<string, string>();
}

/// <summary>A build step failed; the message is already the full report for the user (step, Dockerfile lines, cause).</summary>
public sealed class BuildFailedException(string report) : Exception(report);
