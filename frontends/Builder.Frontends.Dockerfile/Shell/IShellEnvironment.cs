namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// The variables a word is expanded against: the stage's ENV and ARG values at that point.
/// Names are case-sensitive (Linux semantics).
/// </summary>
public interface IShellEnvironment
{
    /// <summary>The value of <paramref name="name"/>, or null when it is not set. Set-but-empty is "".</summary>
    string? Lookup(string name);

    /// <summary>Every name that is set, in definition order (used to suggest names for typos).</summary>
    IEnumerable<string> Names { get; }
}
