namespace Builder.Frontends.Dockerfile;

/// <summary>A point in a Dockerfile. Line and column are 1-based; column counts characters.</summary>
public sealed record Location(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// The one exception the Dockerfile frontend throws for a mistake in the user's Dockerfile.
/// It carries where the mistake is and the offending source line, so a command line tool can
/// show it to the user as-is, without a stack trace.
/// </summary>
public sealed class DockerfileException : Exception
{
    public DockerfileException(string message, Location location, string? sourceLine = null)
        : base(message)
    {
        Location = location;
        SourceLine = sourceLine;
    }

    public Location Location { get; }

    /// <summary>The text of the line <see cref="Location"/> points at, when there is one.</summary>
    public string? SourceLine { get; }

    /// <summary>
    /// Renders the error the way users read it:
    /// <c>Dockerfile:12:1: unknown instruction: RUNN (did you mean RUN?)</c>, then <c> 12 | RUNN make</c>.
    /// </summary>
    public string Format()
    {
        var headline = $"{Location}: {Message}";
        return SourceLine is null ? headline : $"{headline}\n {Location.Line} | {SourceLine}";
    }
}
