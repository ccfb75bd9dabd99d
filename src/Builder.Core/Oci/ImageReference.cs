using System.Text.RegularExpressions;
using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>
/// An image name as Docker reads it, normalised: <c>hello</c> is <c>docker.io/library/hello:latest</c>,
/// <c>foo/bar:1</c> is <c>docker.io/foo/bar:1</c>, <c>127.0.0.1:5000/x</c> keeps its registry.
/// Parsing follows Docker's reference grammar so a name accepted here is accepted by a registry.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    public const string DefaultRegistry = "docker.io";
    public const string DefaultTag = "latest";
    private const int MaxNameLength = 255;

    /// <summary><c>registry/repository</c>, without tag or digest.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The short form Docker shows: <c>hello</c> for docker.io/library/hello, <c>foo/bar</c> for docker.io/foo/bar.</summary>
    public string FamiliarName =>
        Registry != DefaultRegistry ? Name
        : Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', "library/".Length) < 0 ? Repository["library/".Length..]
        : Repository;

    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } digest ? "@" + digest : "");

    public static ImageReference Parse(string text) =>
        TryParse(text, out var reference, out var error) ? reference : throw new FormatException(error);

    public static bool TryParse(string text, out ImageReference reference, out string error)
    {
        reference = null!;
        error = Validate(text, out var registry, out var repository, out var tag, out var digest) ?? "";
        if (error.Length > 0) return false;
        // Like Docker: a reference with neither tag nor digest means :latest.
        reference = new ImageReference(registry, repository, tag ?? (digest is null ? DefaultTag : null), digest);
        return true;
    }

    /// <summary>Splits and checks a reference; returns an error message for the user, or null when it is valid.</summary>
    private static string? Validate(string text, out string registry, out string repository, out string? tag, out Digest? digest)
    {
        registry = repository = "";
        tag = null;
        digest = null;
        if (string.IsNullOrWhiteSpace(text)) return "invalid reference format: image name is empty";

        var remainder = text;
        var at = remainder.LastIndexOf('@');
        if (at >= 0)
        {
            if (!Graph.Digest.TryParse(remainder[(at + 1)..], out var parsed))
                return $"invalid reference \"{text}\": digest must be sha256:<64 lowercase hex digits>";
            digest = parsed;
            remainder = remainder[..at];
        }

        var colon = remainder.LastIndexOf(':');
        if (colon > remainder.LastIndexOf('/'))
        {
            tag = remainder[(colon + 1)..];
            remainder = remainder[..colon];
            if (!TagPattern().IsMatch(tag))
                return $"invalid reference \"{text}\": tag \"{tag}\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}";
        }

        (registry, repository) = SplitRegistry(remainder);
        if (!RegistryPattern().IsMatch(registry))
            return $"invalid reference \"{text}\": \"{registry}\" is not a valid registry host[:port]";
        foreach (var component in repository.Split('/'))
        {
            if (component.Any(char.IsUpper))
                return $"invalid reference \"{text}\": repository name must be lowercase";
            if (!PathComponentPattern().IsMatch(component))
                return $"invalid reference \"{text}\": \"{component}\" is not a valid repository path component (lowercase letters, digits and single separators . _ __ -)";
        }
        if (registry.Length + 1 + repository.Length > MaxNameLength)
            return $"invalid reference \"{text}\": repository name must not be longer than {MaxNameLength} characters";
        return null;
    }

    /// <summary>
    /// The first path component is a registry only when it looks like a host: it has a dot or a
    /// port, is localhost, or has uppercase letters (which a repository path cannot).
    /// </summary>
    private static (string Registry, string Repository) SplitRegistry(string name)
    {
        var slash = name.IndexOf('/');
        if (slash < 0) return (DefaultRegistry, "library/" + name);
        var first = name[..slash];
        var looksLikeHost = first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper);
        if (!looksLikeHost) return (DefaultRegistry, name);
        var registry = first == "index.docker.io" ? DefaultRegistry : first;
        var repository = name[(slash + 1)..];
        if (registry == DefaultRegistry && !repository.Contains('/')) repository = "library/" + repository;
        return (registry, repository);
    }

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex PathComponentPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")]
    private static partial Regex RegistryPattern();
}
