using System.Text;

namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// A word could not be expanded: unbalanced quotes, a bad ${...} form, or a ${V?message} check
/// that failed. The message reads like BuildKit's: <c>failed to process "${V:?}": V: is not allowed to be unset</c>.
/// </summary>
public sealed class ShellExpansionException : Exception
{
    public ShellExpansionException(string word, string reason)
        : base($"failed to process {QuoteLikeGo(word)}: {reason}")
    {
        Word = word;
        Reason = reason;
    }

    /// <summary>The word as written, before expansion.</summary>
    public string Word { get; }

    /// <summary>What went wrong, without the word (e.g. "V: is not allowed to be unset").</summary>
    public string Reason { get; }

    // BuildKit formats the word with Go's %q; users compare messages across tools, so quote the same way
    // for the characters that matter (quotes, backslashes, control characters).
    private static string QuoteLikeGo(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var ch in text)
        {
            quoted.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                < ' ' or '\x7f' => $"\\x{(int)ch:x2}",
                _ => ch.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }
}
