using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>Everything a Dockerfile build is asked to do, as the CLI or daemon received it.</summary>
public sealed record FrontendRequest(string DockerfileText, string DockerfileName)
{
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The stage to build (by name); null builds the last one.</summary>
    public string? Target { get; init; }

    /// <summary>Target platform as os/arch[/variant]; null means the host's.</summary>
    public string? Platform { get; init; }

    public IReadOnlyDictionary<string, NamedContext> NamedContexts { get; init; } = new Dictionary<string, NamedContext>();

    /// <summary>.dockerignore patterns of the main context.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>Architectures (GOARCH names) the host can run through a registered emulator (binfmt_misc), besides its own.</summary>
    public IReadOnlyList<string> EmulatedArchitectures { get; init; } = [];
}

/// <summary>The graph to solve and the config of the image it makes.</summary>
public sealed record FrontendResult(Definition Definition, ImageConfig Config, IReadOnlyList<string> Warnings);

public enum NamedContextKind { LocalDirectory, OciLayout, Image }

/// <summary>
/// A <c>--build-context NAME=VALUE</c>: replaces <c>FROM NAME</c> and <c>COPY --from=NAME</c>
/// with a directory, an OCI layout (<c>oci-layout:///path[:tag]</c>) or another image
/// (<c>docker-image://ref</c>).
/// </summary>
public sealed record NamedContext(NamedContextKind Kind, string Value);

public static class NamedContexts
{
    public static IReadOnlyDictionary<string, NamedContext> Parse(IEnumerable<string> values)
    {
        var contexts = new Dictionary<string, NamedContext>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0 || eq == value.Length - 1)
                throw new FormatException($"invalid --build-context \"{value}\": expected NAME=VALUE");
            contexts[value[..eq]] = ParseValue(value[(eq + 1)..]);
        }
        return contexts;
    }

    private static NamedContext ParseValue(string value)
    {
        if (value.StartsWith("oci-layout://", StringComparison.Ordinal))
            return new NamedContext(NamedContextKind.OciLayout, value);
        if (value.StartsWith("docker-image://", StringComparison.Ordinal))
            return new NamedContext(NamedContextKind.Image, value["docker-image://".Length..]);
        if (value.Contains("://", StringComparison.Ordinal))
            throw new FormatException($"invalid --build-context value \"{value}\": supported are a directory, oci-layout://PATH[:TAG] and docker-image://REF");
        // A directory: made absolute here, checked for existence by the client, which owns the disk.
        return new NamedContext(NamedContextKind.LocalDirectory, Path.GetFullPath(value));
    }
}
