using Builder.Api.V1;
using Builder.Build;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Daemon.Control;

/// <summary>
/// An API SolveRequest → the engine's <see cref="BuildRequest"/>, local sources pointing at the
/// session's mirrors and file outputs at temp files the daemon streams back.
/// </summary>
public static class SolveRequestMapping
{
    public const string Frontend = "dockerfile.v0";

    /// <summary>Outputs the daemon writes to a temp file and sends to the client (local goes as a tar).</summary>
    public static bool IsStreamed(string type) => type is "oci" or "docker" or "tar" or "local";

    /// <param name="directories">The session's synced local sources.</param>
    /// <param name="exportFile">A temp path for the streamed output with this index.</param>
    public static BuildRequest ToBuildRequest(SolveRequest request, IReadOnlyDictionary<string, string> directories, Func<int, string> exportFile)
    {
        if (request.Frontend is not ("" or Frontend))
            throw new ArgumentException($"unsupported frontend \"{request.Frontend}\" (supported: {Frontend})");
        var attrs = request.FrontendAttrs;
        var filename = attrs.GetValueOrDefault("filename") is { Length: > 0 } f ? f : "Dockerfile";
        string text;
        if (!request.Dockerfile.IsEmpty) text = request.Dockerfile.ToStringUtf8();
        else if (directories.TryGetValue("dockerfile", out var dockerfileDir) && Core.Filesystem.RootedPath.Resolve(dockerfileDir, filename) is var path && File.Exists(path))
            text = File.ReadAllText(path);
        else throw new ArgumentException($"failed to read dockerfile: no inline Dockerfile and no {filename} in the \"dockerfile\" local source");

        var buildArgs = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var named = new Dictionary<string, NamedContext>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in attrs)
        {
            if (key.StartsWith("build-arg:", StringComparison.Ordinal)) buildArgs[key["build-arg:".Length..]] = value;
            else if (key.StartsWith("label:", StringComparison.Ordinal)) labels[key["label:".Length..]] = value;
            else if (key.StartsWith("context:", StringComparison.Ordinal)) named[key["context:".Length..]] = NamedContextOf(key, value, directories);
            else if (key is not ("filename" or "target" or "platform"))
                throw new ArgumentException($"unknown frontend option \"{key}\"");
        }

        var outputs = request.Exports.Select((export, index) =>
        {
            var attributes = new Dictionary<string, string>(export.Attrs, StringComparer.Ordinal);
            if (attributes.GetValueOrDefault("push") is "true" or "1")
                throw new ArgumentException($"type={export.Type},push=true: pushing needs the registry client, which this daemon does not have yet");
            var names = attributes.GetValueOrDefault("name")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (!IsStreamed(export.Type)) return new OutputTarget(export.Type, attributes, names);
            var shown = attributes.GetValueOrDefault("dest");
            attributes["dest"] = exportFile(index);
            return new OutputTarget(export.Type == "local" ? "tar" : export.Type, attributes, names) { ShownAs = shown, ShownType = export.Type };
        }).ToList();

        return new BuildRequest(text, Path.GetFileName(filename))
        {
            BuildArgs = buildArgs,
            Labels = labels,
            Target = attrs.GetValueOrDefault("target") is { Length: > 0 } target ? target : null,
            Platform = attrs.GetValueOrDefault("platform") is { Length: > 0 } platform ? platform : null,
            NamedContexts = named,
            Excludes = [.. request.Excludes],
            LocalDirectories = directories.Where(d => d.Key != "dockerfile").ToDictionary(),
            Outputs = outputs,
            NoCache = request.NoCache,
            SourceDateEpoch = request.HasSourceDateEpoch ? DateTimeOffset.FromUnixTimeSeconds(request.SourceDateEpoch) : null,
            CacheImports = [.. request.CacheImports.Select(c => new Build.CacheOptions(c.Type, new Dictionary<string, string>(c.Attrs)))],
            CacheExports = [.. request.CacheExports.Select(c => new Build.CacheOptions(c.Type, new Dictionary<string, string>(c.Attrs)))],
        };
    }

    private static NamedContext NamedContextOf(string key, string value, IReadOnlyDictionary<string, string> directories)
    {
        if (value.StartsWith("local:", StringComparison.Ordinal))
            return directories.TryGetValue(value["local:".Length..], out var dir)
                ? new NamedContext(NamedContextKind.LocalDirectory, dir)
                : throw new ArgumentException($"{key}: the session has no local source \"{value["local:".Length..]}\"");
        if (value.StartsWith("oci-layout://", StringComparison.Ordinal)) return new NamedContext(NamedContextKind.OciLayout, value);
        if (value.StartsWith("docker-image://", StringComparison.Ordinal)) return new NamedContext(NamedContextKind.Image, value["docker-image://".Length..]);
        throw new ArgumentException($"{key}: expected local:NAME, oci-layout://PATH or docker-image://REF, got \"{value}\"");
    }
}
