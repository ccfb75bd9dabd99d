namespace Builder.Cli.Commands;

/// <summary>A mistake in what the user asked for: reported as its message and exit code 1, never with a stack trace.</summary>
public sealed class CliException(string message) : Exception(message);
