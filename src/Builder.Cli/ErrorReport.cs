using System.CommandLine;
using Builder.Build;
using Builder.Cli.Commands;
using Builder.Core.Oci;
using Builder.Core.Solver;
using Builder.Frontends.Dockerfile;

namespace Builder.Cli;

/// <summary>
/// Runs a command and turns what went wrong into a message for the user and exit code 1.
/// Stack traces are for developers: shown only with BUILDER_DEBUG=1, and for real bugs.
/// </summary>
public static class ErrorReport
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("ERROR: canceled");
            return 130;
        }
        catch (Exception error)
        {
            Console.Error.WriteLine(Describe(error));
            if (Environment.GetEnvironmentVariable("BUILDER_DEBUG") == "1") Console.Error.WriteLine(error);
            return 1;
        }
    }

    private static string Describe(Exception error) => error switch
    {
        CliException cli => $"ERROR: {cli.Message}",
        RemoteBuildException remote => remote.Message,
        _ => BuildErrors.Describe(error) ?? BuildErrors.DescribeBug(error),
    };
}

/// <summary>The daemon reported the build failed; the message is its report for the user, printed as is.</summary>
public sealed class RemoteBuildException(string report) : Exception(report);
