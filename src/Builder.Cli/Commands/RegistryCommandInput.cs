using Builder.Core.Oci;

namespace Builder.Cli.Commands;

/// <summary>Reading the names the registry commands take, with the user's mistakes reported as <see cref="CliException"/>.</summary>
internal static class RegistryCommandInput
{
    public static ImageReference ParseReference(string text) =>
        ImageReference.TryParse(text, out var reference, out var error) ? reference : throw new CliException(error);

    public static Platform ParsePlatform(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Platform.Host;
        try { return Platform.Parse(text); }
        catch (FormatException e) { throw new CliException(e.Message); }
    }

    /// <summary>
    /// A registry as <c>docker login</c> accepts it: <c>host[:port]</c>, or a URL such as
    /// <c>https://host/v2/</c>; none means Docker Hub. Returns the name image references use.
    /// </summary>
    public static string ParseRegistry(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return ImageReference.DefaultRegistry;
        var host = text.Trim();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        var slash = host.IndexOf('/');
        if (slash >= 0) host = host[..slash];
        if (host is "index.docker.io" or "registry-1.docker.io") return ImageReference.DefaultRegistry;
        if (!Uri.TryCreate($"https://{host}/", UriKind.Absolute, out var uri) || !uri.Authority.Equals(host, StringComparison.OrdinalIgnoreCase))
            throw new CliException($"invalid registry \"{text}\": expected host[:port]");
        return host;
    }
}
