namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>A parser directive from the top of the file, e.g. <c># syntax=docker/dockerfile:1</c>.</summary>
/// <param name="Name">The directive name, lowercase (<c>syntax</c>, <c>escape</c> or <c>check</c>).</param>
/// <param name="Value">The value as written, surrounding whitespace trimmed.</param>
public sealed record ParserDirective(string Name, string Value, int Line);

/// <summary>
/// A builder flag as written before an instruction's arguments, with quotes and backslash escapes
/// already removed, e.g. <c>--mount=type=cache,target=/root</c>.
/// </summary>
public sealed record NodeFlag(string Text, int Line, int Column)
{
    /// <summary>The flag name without the leading dashes: <c>mount</c>.</summary>
    public string Name => Text[2..].Split('=', 2)[0];

    /// <summary>The value after the first '=', or null for a flag given alone (<c>--link</c>).</summary>
    public string? Value => Text.IndexOf('=') is var i and >= 0 ? Text[(i + 1)..] : null;
}

/// <summary>
/// A here-document attached to RUN, COPY or ADD. <see cref="Content"/> is the body exactly as
/// written, line endings included; with <see cref="Chomp"/> (<c>&lt;&lt;-</c>) leading tabs are
/// removed later, when the content is used. <see cref="Expand"/> is false when any part of the
/// name was quoted, which turns off variable expansion in the body.
/// </summary>
public sealed record Heredoc(string Name, string Content, bool Expand, bool Chomp);

/// <summary>
/// One parsed instruction, shaped like BuildKit's AST node.
/// </summary>
/// <param name="Value">The instruction name in lowercase (<c>run</c>); unknown names are kept too.</param>
/// <param name="Keyword">The instruction name as written (<c>Run</c>), for messages.</param>
/// <param name="Original">The whole logical line, continuations joined.</param>
/// <param name="Flags">Builder flags in the order written.</param>
/// <param name="Args">The arguments: one per JSON element in exec form, the raw rest of the line in
/// shell form, or (for ENV and LABEL) key, value, separator triples.</param>
/// <param name="Trigger">For ONBUILD, the wrapped instruction.</param>
/// <param name="IsJson">True when the arguments came from a JSON array (exec form).</param>
/// <param name="Heredocs">Here-documents whose bodies follow the line.</param>
/// <param name="StartLine">First line of the instruction (1-based).</param>
/// <param name="EndLine">Last line, continuations and heredoc bodies included.</param>
/// <param name="Column">Column of the instruction name on <paramref name="StartLine"/>.</param>
public sealed record Node(
    string Value,
    string Keyword,
    string Original,
    IReadOnlyList<NodeFlag> Flags,
    IReadOnlyList<string> Args,
    Node? Trigger,
    bool IsJson,
    IReadOnlyList<Heredoc> Heredocs,
    int StartLine,
    int EndLine,
    int Column);

/// <summary>The result of <see cref="DockerfileParser.Parse"/>.</summary>
/// <param name="Directives">Parser directives in the order found.</param>
/// <param name="Children">The instructions in file order.</param>
/// <param name="Warnings">Things BuildKit accepts but warns about (e.g. empty continuation lines).</param>
/// <param name="EscapeToken">The escape character in effect: '\' or '`'.</param>
/// <param name="Source">The source lines, for pointing at them in later errors.</param>
public sealed record ParseResult(
    IReadOnlyList<ParserDirective> Directives,
    IReadOnlyList<Node> Children,
    IReadOnlyList<string> Warnings,
    char EscapeToken,
    DockerfileSource Source);
