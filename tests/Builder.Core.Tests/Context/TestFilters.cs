using System.Collections.Concurrent;
using Builder.Core.Context;

namespace Builder.Core.Tests.Context;

/// <summary>
/// A stand-in for .dockerignore: everything under <c>excluded</c> prefixes is left out except
/// what is under <c>reincluded</c> prefixes. Records every path it was asked about.
/// </summary>
public sealed class PrefixFilter(string[] excluded, string[]? reincluded = null) : IPathFilter
{
    private readonly string[] _reincluded = reincluded ?? [];

    public ConcurrentBag<string> Asked { get; } = [];

    public bool IsExcluded(string relativePath)
    {
        Asked.Add(relativePath);
        return excluded.Any(prefix => IsAtOrBelow(relativePath, prefix))
            && !_reincluded.Any(prefix => IsAtOrBelow(relativePath, prefix));
    }

    public bool MayContainIncluded(string relativeDirectory) =>
        _reincluded.Any(prefix => IsAtOrBelow(prefix, relativeDirectory) || IsAtOrBelow(relativeDirectory, prefix));

    private static bool IsAtOrBelow(string path, string prefix) =>
        path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal);
}
