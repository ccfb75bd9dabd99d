namespace Builder.Core.Context;

/// <summary>One path of a build context as the walker found it.</summary>
/// <param name="Path">relative to the context root, '/'-separated, no leading or trailing '/'.</param>
/// <param name="LinkTarget">the target of a symlink as stored (never followed); null otherwise.</param>
public sealed record ContextEntry(string Path, FileStatus Status, string? LinkTarget)
{
    public EntryType Type => Status.Type;

    /// <summary>The last path component.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];
}
