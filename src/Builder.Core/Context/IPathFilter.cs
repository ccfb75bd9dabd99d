namespace Builder.Core.Context;

/// <summary>Which paths of a build context are left out (.dockerignore). Paths are relative, '/'-separated.</summary>
public interface IPathFilter
{
    bool IsExcluded(string relativePath);

    /// <summary>
    /// Whether an excluded directory may still hold paths the filter includes again
    /// (a later <c>!</c> exception), so a walker must descend into it.
    /// </summary>
    bool MayContainIncluded(string relativeDirectory);
}

/// <summary>The filter of a context without .dockerignore.</summary>
public sealed class IncludeEverything : IPathFilter
{
    public static IncludeEverything Instance { get; } = new();

    public bool IsExcluded(string relativePath) => false;

    public bool MayContainIncluded(string relativeDirectory) => true;
}
