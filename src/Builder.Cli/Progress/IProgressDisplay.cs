using Builder.Build;

namespace Builder.Cli.Progress;

/// <summary>Shows a build's progress to a person: plain lines for logs and CI, a live view on a terminal.</summary>
public interface IProgressDisplay : IBuildProgress
{
    /// <summary>The build ended: draw the final state and stop redrawing.</summary>
    void Complete();
}

public static class ProgressDisplay
{
    /// <summary>--progress auto|plain|tty|rawjson: auto is tty when stderr is a terminal, as in buildx.</summary>
    public static IProgressDisplay Create(string mode, TextWriter output) => mode switch
    {
        "plain" => new PlainProgress(output),
        "tty" => new TtyProgress(output),
        "rawjson" => new RawJsonProgress(output),
        "auto" => Console.IsErrorRedirected ? new PlainProgress(output) : new TtyProgress(output),
        _ => throw new ArgumentException($"invalid --progress \"{mode}\": expected auto, plain, tty or rawjson"),
    };
}
