using System.CommandLine;
using Builder.Api.V1;
using Builder.Cli.Remote;
using Builder.Core.Engine;
using Builder.Core.State;
using Builder.Daemon;
using Builder.Daemon.FileSync;
using Builder.Daemon.Gc;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>builder du</c> and <c>builder prune</c> (and their <c>builder ctl</c> forms): through the
/// daemon when one answers (or always, for ctl), else directly on <c>$BUILDER_ROOT</c>.
/// </summary>
public static class GcCommands
{
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "One line per record" };
    private static readonly Option<bool> All = new("--all", "-a") { Description = "Also remove context mirrors (internal records)" };
    private static readonly Option<string?> KeepStorage = new("--keep-storage") { Description = "Keep this much of the most recently used cache (e.g. 10GB)" };
    private static readonly Option<string[]> Filters = new("--filter") { Description = "until=DURATION: only remove cache unused for longer (e.g. until=24h)" };

    public static Command Du(bool ctl, Option<string?>? addr = null)
    {
        var command = new Command("du", "Show disk usage of the build cache") { Verbose };
        command.SetAction(async (parse, ct) =>
        {
            var records = await WithEngineAsync(ctl, addr is null ? null : parse.GetValue(addr),
                async (client, token) => (await client.Control.DiskUsageAsync(new DiskUsageRequest(), cancellationToken: token)).Records.ToList(),
                async (gc, token) => (await gc.UsageAsync(token)).Select(UsageEntryMapping.ToApi).ToList(), ct);
            Print(records, parse.GetValue(Verbose));
            var total = records.Sum(r => r.Size);
            var reclaimable = records.Where(r => !r.InUse && r.Kind != "context").Sum(r => r.Size);
            Console.WriteLine($"Reclaimable:\t{ByteSize.Format(reclaimable)}");
            Console.WriteLine($"Total:\t\t{ByteSize.Format(total)}");
            return 0;
        });
        return command;
    }

    public static Command Prune(bool ctl, Option<string?>? addr = null)
    {
        var command = new Command("prune", "Remove build cache that no tagged image needs") { All, KeepStorage, Filters, Verbose };
        command.SetAction(async (parse, ct) =>
        {
            var request = new PruneRequest { All = parse.GetValue(All) };
            try
            {
                if (parse.GetValue(KeepStorage) is { } keep) request.KeepStorage = ByteSize.Parse(keep);
                foreach (var filter in parse.GetValue(Filters) ?? [])
                {
                    if (!filter.StartsWith("until=", StringComparison.Ordinal)) throw new FormatException($"invalid filter \"{filter}\": supported is until=DURATION");
                    request.KeepDuration = Duration.FromTimeSpan(DurationText.Parse(filter["until=".Length..]));
                }
            }
            catch (FormatException e) { throw new CliException(e.Message); }

            var removed = await WithEngineAsync(ctl, addr is null ? null : parse.GetValue(addr),
                async (client, token) => (await client.Control.PruneAsync(request, cancellationToken: token)).Removed.ToList(),
                async (gc, token) => (await gc.PruneAsync(new PruneOptions(request.All, request.KeepStorage, request.KeepDuration?.ToTimeSpan()), token)).Select(UsageEntryMapping.ToApi).ToList(), ct);
            if (parse.GetValue(Verbose)) Print(removed, verbose: true);
            Console.WriteLine($"Total:\t{ByteSize.Format(removed.Sum(r => r.Size))} reclaimed ({removed.Count} records)");
            return 0;
        });
        return command;
    }

    private static async Task<T> WithEngineAsync<T>(bool ctl, string? addr, Func<DaemonClient, CancellationToken, Task<T>> remote, Func<GarbageCollector, CancellationToken, Task<T>> local, CancellationToken ct)
    {
        using var daemon = ctl ? await DaemonClient.ForCtlAsync(addr, ct) : await DaemonClient.ForBuildAsync(ct);
        if (daemon is not null)
        {
            try { return await remote(daemon, ct); }
            catch (Grpc.Core.RpcException e) { throw new CliException(DaemonClient.Reason(e)); }
        }
        var root = StateRoot.FromEnvironment();
        using var stateLock = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine($"waiting for another builder to release {root.Path} ..."), ct);
        await using var worker = await Worker.OpenAsync(root, ct);
        var gc = new GarbageCollector(worker, new ContextMirrors(Path.Join(root.Path, "contexts"), root.TempDir), new BuildGate(), new GcPolicy { Enabled = false }, NullLogger<GarbageCollector>.Instance);
        return await local(gc, ct);
    }

    private static void Print(IReadOnlyList<UsageRecord> records, bool verbose)
    {
        if (verbose)
        {
            foreach (var r in records)
            {
                Console.WriteLine($"ID:\t\t{r.Id}\nType:\t\t{r.Kind}\nSize:\t\t{ByteSize.Format(r.Size)}\nLast used:\t{r.LastUsed?.ToDateTimeOffset():u}\nIn use:\t\t{r.InUse.ToString().ToLowerInvariant()}\nShared:\t\t{r.Shared.ToString().ToLowerInvariant()}\nDescription:\t{r.Description}\n");
            }
            return;
        }
        Console.WriteLine($"{"ID",-73} {"TYPE",-8} {"RECLAIMABLE",-12} {"SIZE",-10} {"LAST USED",-20} SHARED");
        foreach (var r in records.OrderByDescending(r => r.Size))
            Console.WriteLine($"{r.Id,-73} {r.Kind,-8} {(!r.InUse).ToString().ToLowerInvariant(),-12} {ByteSize.Format(r.Size),-10} {r.LastUsed?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss"),-20} {r.Shared.ToString().ToLowerInvariant()}");
    }
}
