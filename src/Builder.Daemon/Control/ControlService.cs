using System.Text.Json;
using System.Threading.Channels;
using Builder.Api.V1;
using Builder.Build;
using Builder.Core.Engine;
using Builder.Core.Oci;
using Builder.Daemon.FileSync;
using Builder.Daemon.Gc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Daemon.Control;

/// <summary>The Control service (control.proto) over the daemon's one shared <see cref="Worker"/>.</summary>
public sealed class ControlService(
    Worker worker,
    Sessions sessions,
    Counters counters,
    GarbageCollector gc,
    IHostApplicationLifetime lifetime,
    ILogger<ControlService> log) : Api.V1.Control.ControlBase
{
    private const int ChunkSize = 256 * 1024;

    public override async Task Solve(SolveRequest request, IServerStreamWriter<SolveStatus> responseStream, ServerCallContext context)
    {
        // The client going away or the daemon stopping cancels this build, and only this one:
        // work another build also waits for keeps running (the solver counts its waiters).
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ct = cts.Token;
        using var building = await gc.Gate.BuildAsync(ct);
        var exportDir = Path.Join(worker.Root.TempDir, $"export-{Guid.NewGuid():N}");
        counters.Add(Counters.SolvesStarted, 1);
        counters.Add(Counters.SolvesActive, 1);
        log.LogInformation("solve {Ref} (session {Session}) started", request.Ref, request.Session);
        try
        {
            var channel = Channel.CreateUnbounded<SolveStatus>(new UnboundedChannelOptions { SingleReader = true });
            var pump = PumpAsync(channel.Reader, responseStream, cts);
            BuildResult? result = null;
            string? error = null;
            try
            {
                Directory.CreateDirectory(exportDir);
                var build = SolveRequestMapping.ToBuildRequest(request, sessions.DirectoriesOf(request.Session), i => Path.Join(exportDir, $"{i}"));
                result = await new BuildRunner(worker).RunAsync(build, new ChannelProgress(channel.Writer), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                error = BuildErrors.Describe(e) ?? (e is ArgumentException or FormatException or InvalidDataException ? $"ERROR: {e.Message}" : null);
                if (error is null)
                {
                    log.LogError(e, "solve {Ref} failed", request.Ref);
                    error = BuildErrors.DescribeBug(e);
                }
            }
            finally
            {
                channel.Writer.Complete();
                await pump;
            }
            ct.ThrowIfCancellationRequested();

            if (error is not null)
            {
                await responseStream.WriteAsync(new SolveStatus { Time = Now(), Error = new SolveError { Message = error } }, ct);
                return;
            }
            for (var i = 0; i < request.Exports.Count; i++)
                if (SolveRequestMapping.IsStreamed(request.Exports[i].Type))
                    await SendFileAsync(i, Path.Join(exportDir, $"{i}"), responseStream, ct);
            var done = new SolveResult { ManifestDigest = result!.ManifestDigest ?? "", ConfigDigest = result.ConfigDigest ?? "" };
            foreach (var (k, v) in result.ExporterResponse) done.ExporterResponse[k] = v;
            await responseStream.WriteAsync(new SolveStatus { Time = Now(), Result = done }, ct);
            log.LogInformation("solve {Ref} done", request.Ref);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            log.LogInformation("solve {Ref} cancelled", request.Ref);
            throw new RpcException(new Status(StatusCode.Cancelled, lifetime.ApplicationStopping.IsCancellationRequested ? "the daemon is shutting down" : "canceled"));
        }
        finally
        {
            counters.Add(Counters.SolvesActive, -1);
            try { if (Directory.Exists(exportDir)) Directory.Delete(exportDir, recursive: true); }
            catch (IOException e) { log.LogWarning("could not remove {Dir}: {Error}", exportDir, e.Message); }
            gc.BuildFinished();
        }
    }

    /// <summary>Writes queued progress to the client; a client that is gone cancels the build.</summary>
    private static async Task PumpAsync(ChannelReader<SolveStatus> reader, IServerStreamWriter<SolveStatus> stream, CancellationTokenSource cts)
    {
        await Task.Yield();
        var broken = false;
        await foreach (var status in reader.ReadAllAsync())
        {
            if (broken) continue;
            try { await stream.WriteAsync(status, cts.Token); }
            catch (Exception) { broken = true; await cts.CancelAsync(); }
        }
    }

    private static async Task SendFileAsync(int index, string path, IServerStreamWriter<SolveStatus> stream, CancellationToken ct)
    {
        await using var file = File.OpenRead(path);
        var buffer = new byte[ChunkSize];
        while (true)
        {
            var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
            var eof = read < buffer.Length;
            await stream.WriteAsync(new SolveStatus
            {
                Time = Now(),
                Output = new OutputChunk { ExportIndex = index, Data = ByteString.CopyFrom(buffer, 0, read), Eof = eof },
            }, ct);
            if (eof) return;
        }
    }

    public override async Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var response = new ListImagesResponse();
        foreach (var image in await worker.Images.ListAsync(context.CancellationToken))
            response.Images.Add(new Api.V1.ImageRecord
            {
                Name = image.Name,
                Digest = image.Target.Digest.ToString(),
                MediaType = image.Target.MediaType,
                Size = image.Target.Size,
                Updated = Timestamp.FromDateTimeOffset(image.Updated),
            });
        return response;
    }

    public override async Task<InspectResponse> Inspect(InspectRequest request, ServerCallContext context)
    {
        try
        {
            var name = ImageReference.Parse(request.Name).ToString();
            var image = await worker.ImageResolver.ResolveAsync(name, Platform.Host, context.CancellationToken);
            return new InspectResponse { Name = name, ManifestDigest = image.ManifestDigest.ToString(), ConfigJson = System.Text.Encoding.UTF8.GetString(image.Config.ToJson()) };
        }
        catch (ImageNotFoundException)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no such image: {request.Name}"));
        }
        catch (FormatException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }

    public override async Task<DiskUsageResponse> DiskUsage(DiskUsageRequest request, ServerCallContext context)
    {
        var response = new DiskUsageResponse();
        response.Records.AddRange((await gc.UsageAsync(context.CancellationToken)).Select(UsageEntryMapping.ToApi));
        return response;
    }

    public override async Task<PruneResponse> Prune(PruneRequest request, ServerCallContext context)
    {
        var options = new PruneOptions(request.All, request.KeepStorage, request.KeepDuration?.ToTimeSpan());
        var removed = await gc.PruneAsync(options, context.CancellationToken);
        var response = new PruneResponse { BytesFreed = removed.Sum(r => r.Size) };
        response.Removed.AddRange(removed.Select(UsageEntryMapping.ToApi));
        return response;
    }

    public override Task<InfoResponse> Info(InfoRequest request, ServerCallContext context)
    {
        var response = new InfoResponse
        {
            Version = DaemonInfo.Version,
            Root = worker.Root.Path,
            Pid = Environment.ProcessId,
        };
        var workerInfo = new WorkerInfo { Id = Environment.MachineName };
        workerInfo.Platforms.Add(Platform.Host.ToString());
        workerInfo.Labels.Add("executor", "runc");
        workerInfo.Labels.Add("snapshotter", "overlayfs");
        response.Workers.Add(workerInfo);
        foreach (var (k, v) in counters.Snapshot()) response.Counters[k] = v;
        return Task.FromResult(response);
    }

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
}

public static class DaemonInfo
{
    public static string Version { get; } =
        typeof(DaemonInfo).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "dev";
}
