using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>
/// One validated Dockerfile instruction. Values are raw: variables in them are expanded later,
/// at conversion, with the ARG/ENV values in scope there.
/// </summary>
/// <param name="Location">Where the instruction name is.</param>
/// <param name="EndLine">The instruction's last line (continuations and heredocs included).</param>
/// <param name="Original">The instruction's logical line as written.</param>
public abstract record Instruction(Location Location, int EndLine, string Original);

/// <summary>A command in exec form (<c>["a", "b"]</c>, run as-is) or shell form (one string given to the shell).</summary>
public sealed record CommandLine(IReadOnlyList<string> Args, bool IsExecForm);

/// <summary>A key and a value as written (<c>k=v</c> or the old <c>k v</c> form).</summary>
public sealed record KeyValue(string Key, string Value);

/// <summary>An ARG declaration; <see cref="DefaultValue"/> is null for <c>ARG name</c>.</summary>
public sealed record ArgDeclaration(string Name, string? DefaultValue);

/// <summary>A COPY/ADD source given inline as a heredoc: the file name and its content.</summary>
public sealed record InlineSource(string Path, string Content, bool Expand);

/// <summary>The sources and destination of COPY/ADD.</summary>
public sealed record SourcesAndDestination(
    IReadOnlyList<string> SourcePaths,
    IReadOnlyList<InlineSource> SourceContents,
    string Destination);

public sealed record FromInstruction(Location Location, int EndLine, string Original,
    string BaseName, string? StageName, string? Platform) : Instruction(Location, EndLine, Original);

public sealed record RunInstruction(Location Location, int EndLine, string Original,
    CommandLine Command, IReadOnlyList<Heredoc> Heredocs,
    IReadOnlyList<string> Mounts, string? Network, string? Security) : Instruction(Location, EndLine, Original);

public sealed record CmdInstruction(Location Location, int EndLine, string Original,
    CommandLine Command) : Instruction(Location, EndLine, Original);

public sealed record EntrypointInstruction(Location Location, int EndLine, string Original,
    CommandLine Command) : Instruction(Location, EndLine, Original);

public sealed record LabelInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<KeyValue> Labels) : Instruction(Location, EndLine, Original);

public sealed record MaintainerInstruction(Location Location, int EndLine, string Original,
    string Maintainer) : Instruction(Location, EndLine, Original);

public sealed record ExposeInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<string> Ports) : Instruction(Location, EndLine, Original);

public sealed record EnvInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<KeyValue> Variables) : Instruction(Location, EndLine, Original);

public sealed record AddInstruction(Location Location, int EndLine, string Original,
    SourcesAndDestination Files, string? Chown, string? Chmod, bool Link, string? Checksum,
    bool? KeepGitDir, IReadOnlyList<string> Excludes, bool? Unpack) : Instruction(Location, EndLine, Original);

public sealed record CopyInstruction(Location Location, int EndLine, string Original,
    SourcesAndDestination Files, string? From, string? Chown, string? Chmod, bool Link, bool Parents,
    IReadOnlyList<string> Excludes) : Instruction(Location, EndLine, Original);

public sealed record VolumeInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<string> Paths) : Instruction(Location, EndLine, Original);

public sealed record UserInstruction(Location Location, int EndLine, string Original,
    string User) : Instruction(Location, EndLine, Original);

public sealed record WorkdirInstruction(Location Location, int EndLine, string Original,
    string Path) : Instruction(Location, EndLine, Original);

public sealed record ArgInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<ArgDeclaration> Args) : Instruction(Location, EndLine, Original);

/// <summary>
/// ONBUILD keeps its trigger as text (<see cref="Expression"/>, heredocs appended), because the
/// trigger is parsed and run only when another build uses this image as its base.
/// </summary>
public sealed record OnbuildInstruction(Location Location, int EndLine, string Original,
    string TriggerName, string Expression) : Instruction(Location, EndLine, Original);

public sealed record StopsignalInstruction(Location Location, int EndLine, string Original,
    string Signal) : Instruction(Location, EndLine, Original);

/// <summary>
/// HEALTHCHECK NONE (<see cref="Disabled"/>) or HEALTHCHECK CMD. <see cref="Test"/> is the image
/// config form: <c>["CMD", …]</c> for exec form, <c>["CMD-SHELL", "…"]</c> for shell form,
/// <c>["NONE"]</c>. Durations not given are null.
/// </summary>
public sealed record HealthcheckInstruction(Location Location, int EndLine, string Original,
    bool Disabled, IReadOnlyList<string> Test, TimeSpan? Interval, TimeSpan? Timeout, TimeSpan? StartPeriod,
    TimeSpan? StartInterval, int? Retries) : Instruction(Location, EndLine, Original);

public sealed record ShellInstruction(Location Location, int EndLine, string Original,
    IReadOnlyList<string> Shell) : Instruction(Location, EndLine, Original);
