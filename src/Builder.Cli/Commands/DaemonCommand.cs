using System.CommandLine;
using Builder.Daemon;

namespace Builder.Cli.Commands;

/// <summary><c>builder daemon</c>: serve the API on a unix socket for many clients at once.</summary>
public static class DaemonCommand
{
    private static readonly Option<string?> Addr = new("--addr") { Description = $"Listening address (default {DaemonOptions.DefaultAddress})" };
    private static readonly Option<string?> Root = new("--root") { Description = "State root (default $BUILDER_ROOT or /var/lib/builder)" };
    private static readonly Option<string?> Config = new("--config") { Description = "Daemon config file (JSON: addr, root, group, gc {enabled, keepStorage, keepDuration, interval})" };

    public static Command Create()
    {
        var command = new Command("daemon", "Run the builder daemon") { Addr, Root, Config };
        command.SetAction(async (parse, ct) =>
        {
            DaemonOptions options;
            try
            {
                options = DaemonOptions.Load(parse.GetValue(Config), parse.GetValue(Addr),
                    parse.GetValue(Root) ?? (Environment.GetEnvironmentVariable("BUILDER_ROOT") is { Length: > 0 } r && parse.GetValue(Config) is null ? r : null));
            }
            catch (Exception e) when (e is FormatException or IOException) { throw new CliException(e.Message); }
            try { return await DaemonHost.RunAsync(options, Console.Error, ct); }
            catch (DaemonStartException e) { throw new CliException(e.Message); }
        });
        return command;
    }
}
