namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// The outcome of expanding one word.
/// </summary>
/// <param name="Word">The expanded word with quotes removed and no splitting (ProcessWord).</param>
/// <param name="Words">The expanded text split into words outside quotes (ProcessWords).</param>
/// <param name="Matched">Names that were referenced and set.</param>
/// <param name="Unmatched">Names that were referenced but not set (BuildKit warns about these).</param>
public sealed record ShellExpansionResult(
    string Word,
    IReadOnlyList<string> Words,
    IReadOnlySet<string> Matched,
    IReadOnlySet<string> Unmatched);
