namespace Builder.Core.Context;

/// <summary>A .dockerignore line that is not a valid pattern. The message names the file (when known), the line and why.</summary>
public sealed class IgnorePatternException(int lineNumber, string line, string reason, string? file = null)
    : FormatException($"{file ?? IgnoreFile.DefaultName}:{lineNumber}: invalid pattern \"{line}\": {reason}")
{
    /// <summary>1-based line number in the ignore file.</summary>
    public int LineNumber { get; } = lineNumber;

    /// <summary>The line as written (trimmed).</summary>
    public string Line { get; } = line;

    /// <summary>Why the pattern is invalid.</summary>
    public string Reason { get; } = reason;

    /// <summary>The ignore file, when the patterns came from one.</summary>
    public string? File { get; } = file;
}
