namespace Builder.Frontends.Dockerfile.Shell;

/// <summary>
/// Which instructions have their <c>$VARIABLES</c> expanded by the builder (rather than by the shell
/// in the container at run time). Taken from BuildKit's instructions (the commands that implement
/// <c>Expand</c>) and dispatchers:
/// <list type="bullet">
/// <item>ADD, COPY — source paths and destination, and the <c>--chown</c>, <c>--chmod</c> values (ADD also
///   <c>--checksum</c>). Heredoc bodies are expanded, without quote processing, unless the heredoc
///   marker is quoted (<c>&lt;&lt;"EOF"</c>). <c>COPY --from</c> is <em>not</em> expanded: BuildKit rejects a
///   value that expansion would change and suggests a FROM stage instead.</item>
/// <item>ENV, LABEL — keys and values.</item>
/// <item>ARG — the name and the default value (evaluated when the ARG is reached, so that a build-arg
///   given on the command line wins before the default is ever expanded).</item>
/// <item>EXPOSE — each port, split into words (one <c>$PORTS</c> may expose several).</item>
/// <item>FROM — the image reference and <c>--platform</c>, against the global ARGs declared before
///   the first FROM only.</item>
/// <item>STOPSIGNAL, USER, VOLUME, WORKDIR — their arguments.</item>
/// <item>RUN — only the values of <c>--mount</c> flags. The command itself goes to the shell untouched;
///   the shell in the container expands it from the ENV the container receives.</item>
/// </list>
/// Not expanded: CMD, ENTRYPOINT, SHELL, HEALTHCHECK (the container's shell does it at run time, if
/// the exec form even uses one), MAINTAINER, and ONBUILD — its trigger is stored verbatim and
/// follows the rules of its own instruction when a child image's build replays it.
/// </summary>
public static class ExpansionRules
{
    private static readonly HashSet<string> ArgumentsExpanded = new(StringComparer.OrdinalIgnoreCase)
    {
        "ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    };

    private static readonly Dictionary<string, string[]> FlagsExpanded = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ADD"] = ["chown", "chmod", "checksum"],
        ["COPY"] = ["chown", "chmod"],
        ["FROM"] = ["platform"],
        ["RUN"] = ["mount"],
    };

    /// <summary>Whether the builder expands variables in the arguments of <paramref name="instruction"/> (any case).</summary>
    public static bool ExpandsVariables(string instruction) => ArgumentsExpanded.Contains(instruction);

    /// <summary>
    /// Whether the builder expands variables in the value of flag <paramref name="flag"/> (without dashes)
    /// of <paramref name="instruction"/>, e.g. <c>RUN --mount</c> or <c>COPY --chown</c>.
    /// </summary>
    public static bool ExpandsFlag(string instruction, string flag) =>
        FlagsExpanded.TryGetValue(instruction, out var flags) && flags.Contains(flag, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the arguments are split into several words after expansion (ProcessWords) rather than
    /// expanded as single words (ProcessWord). Only EXPOSE does this.
    /// </summary>
    public static bool SplitsWords(string instruction) => string.Equals(instruction, "EXPOSE", StringComparison.OrdinalIgnoreCase);
}
