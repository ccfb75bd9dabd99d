using System.Collections.Concurrent;
using Builder.Api.V1;
using Builder.Build;
using Builder.Core.Context;
using Builder.Core.Graph;
using Builder.Core.Solver;
using Builder.Daemon.Control;
using Builder.Frontends.Dockerfile.Conversion;
using Google.Protobuf;
using Grpc.Core;

namespace Builder.Cli.Remote;

/// <summary>
/// A <see cref="BuildRequest"/> run by a daemon: its local directories synced under a new
/// session, the request sent to Control.Solve, the status stream shown on the same displays as
/// an embedded build, and file outputs written where the user asked.
/// </summary>
public static class RemoteBuild
{
    public static async Task<BuildResult> RunAsync(DaemonClient client, BuildRequest request, IBuildProgress progress, CancellationToken ct)
    {
        // Secrets and agent sockets are read from this client's files and environment; the daemon
        // has no channel to ask for them yet, and silently building without them would be wrong.
        if (request.UsesClientSession)
            throw new Builder.Cli.Commands.CliException("--secret and --ssh are not supported through the daemon yet: build with BUILDER_HOST=embedded");
        var session = Guid.NewGuid().ToString("N");
        var uploads = new List<ContextUploader>();
        try
        {
            foreach (var (name, directory) in request.LocalDirectories)
            {
                IPathFilter filter = name == DockerfileFrontend.ContextName && request.Excludes.Count > 0
                    ? IgnorePatterns.Parse(string.Join('\n', request.Excludes))
                    : IncludeEverything.Instance;
                uploads.Add(await ContextUploader.SyncAsync(client, session, name, directory, filter, ct));
            }
            return await SolveAsync(client, ToSolveRequest(request, session), request, progress, ct);
        }
        finally
        {
            foreach (var upload in uploads) await upload.DisposeAsync();
        }
    }

    public static SolveRequest ToSolveRequest(BuildRequest request, string session)
    {
        var solve = new SolveRequest
        {
            Ref = session,
            Frontend = SolveRequestMapping.Frontend,
            Dockerfile = ByteString.CopyFromUtf8(request.DockerfileText),
            Session = session,
            NoCache = request.NoCache,
        };
        solve.FrontendAttrs["filename"] = request.DockerfileName;
        if (request.Target is { } target) solve.FrontendAttrs["target"] = target;
        if (request.Platform is { } platform) solve.FrontendAttrs["platform"] = platform;
        foreach (var (key, value) in request.BuildArgs) solve.FrontendAttrs[$"build-arg:{key}"] = value;
        foreach (var (key, value) in request.Labels) solve.FrontendAttrs[$"label:{key}"] = value;
        foreach (var (name, context) in request.NamedContexts)
            solve.FrontendAttrs[$"context:{name}"] = context.Kind switch
            {
                NamedContextKind.LocalDirectory => $"local:{DockerfileFrontend.LocalNameFor(name)}",
                NamedContextKind.Image => $"docker-image://{context.Value}",
                _ => context.Value,
            };
        solve.Excludes.AddRange(request.Excludes);
        foreach (var output in request.Outputs)
        {
            var exporter = new Exporter { Type = output.Type };
            foreach (var (key, value) in output.Attributes) exporter.Attrs[key] = value;
            if (output.Names.Count > 0) exporter.Attrs["name"] = string.Join(',', output.Names);
            if (output.Dest is { } dest) exporter.Attrs["dest"] = Path.GetFullPath(dest);
            solve.Exports.Add(exporter);
        }
        foreach (var cache in request.CacheImports) solve.CacheImports.Add(ToApi(cache));
        foreach (var cache in request.CacheExports) solve.CacheExports.Add(ToApi(cache));
        if (request.SourceDateEpoch is { } epoch) solve.SourceDateEpoch = epoch.ToUnixTimeSeconds();
        return solve;
    }

    private static Api.V1.CacheOptions ToApi(Build.CacheOptions cache)
    {
        var options = new Api.V1.CacheOptions { Type = cache.Type };
        foreach (var (key, value) in cache.Attributes) options.Attrs[key] = value;
        return options;
    }

    private static async Task<BuildResult> SolveAsync(DaemonClient client, SolveRequest solve, BuildRequest request, IBuildProgress progress, CancellationToken ct)
    {
        var vertices = new ConcurrentDictionary<string, Vertex>(StringComparer.Ordinal);
        var outputs = new Dictionary<int, OutputFile>();
        try
        {
            using var call = client.Control.Solve(solve, cancellationToken: ct);
            await foreach (var status in call.ResponseStream.ReadAllAsync(ct))
            {
                var time = status.Time?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
                switch (status.EventCase)
                {
                    case SolveStatus.EventOneofCase.Vertex:
                        var v = status.Vertex;
                        var vertex = VertexFor(vertices, v.Digest, v.Name);
                        progress.Report(v.Kind switch
                        {
                            VertexEvent.Types.Kind.Started => new VertexStarted(vertex, time),
                            VertexEvent.Types.Kind.Cached => new VertexCached(vertex, time),
                            VertexEvent.Types.Kind.Completed => new VertexCompleted(vertex, time, v.Duration?.ToTimeSpan() ?? TimeSpan.Zero),
                            _ => new VertexFailed(vertex, time, v.Error),
                        });
                        break;
                    case SolveStatus.EventOneofCase.Log:
                        progress.Report(new Core.Solver.VertexLog(VertexFor(vertices, status.Log.Digest, status.Log.Name), time, status.Log.Stream, status.Log.Data.Memory));
                        break;
                    case SolveStatus.EventOneofCase.Message:
                        progress.Message(status.Message);
                        break;
                    case SolveStatus.EventOneofCase.Warning:
                        progress.Warning(status.Warning);
                        break;
                    case SolveStatus.EventOneofCase.Output:
                        var chunk = status.Output;
                        if (!outputs.TryGetValue(chunk.ExportIndex, out var file))
                            outputs[chunk.ExportIndex] = file = OutputFile.Open(solve.Exports[chunk.ExportIndex]);
                        await file.WriteAsync(chunk.Data.Memory, ct);
                        if (chunk.Eof) await file.CompleteAsync(ct);
                        break;
                    case SolveStatus.EventOneofCase.Error:
                        throw new RemoteBuildException(status.Error.Message);
                    case SolveStatus.EventOneofCase.Result:
                        var result = status.Result;
                        return new BuildResult(NullIfEmpty(result.ManifestDigest), NullIfEmpty(result.ConfigDigest))
                        {
                            ExporterResponse = new Dictionary<string, string>(result.ExporterResponse),
                        };
                }
            }
            throw new RemoteBuildException("ERROR: the daemon ended the build without a result");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (RpcException e)
        {
            throw new RemoteBuildException($"ERROR: {DaemonClient.Reason(e)}");
        }
        finally
        {
            foreach (var file in outputs.Values) file.Dispose();
        }
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    /// <summary>
    /// The displays key steps by vertex and show their names; a vertex made up on this side
    /// stands for the daemon's (a local source op named after the daemon's digest gives a stable,
    /// distinct identity; it is never solved).
    /// </summary>
    private static Vertex VertexFor(ConcurrentDictionary<string, Vertex> vertices, string digest, string name) =>
        vertices.GetOrAdd(digest, d => new Vertex(new LocalSourceOp($"remote:{d}", []), name));

    /// <summary>An output file arriving from the daemon: written beside its destination, renamed into place when complete (a local dir is unpacked from the tar).</summary>
    private sealed class OutputFile : IDisposable
    {
        private readonly string _dest;
        private readonly string _temp;
        private readonly bool _unpack;
        private FileStream? _stream;

        private OutputFile(string dest, bool unpack)
        {
            _dest = dest;
            _unpack = unpack;
            _temp = $"{dest}.{Guid.NewGuid():N}.tmp";
            _stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.Write);
        }

        public static OutputFile Open(Exporter export)
        {
            var dest = export.Attrs["dest"];
            var unpack = export.Type == "local";
            Directory.CreateDirectory(unpack ? Path.GetDirectoryName(Path.GetFullPath(dest))! : Path.GetDirectoryName(Path.GetFullPath(dest))!);
            return new OutputFile(dest, unpack);
        }

        public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => _stream!.WriteAsync(data, ct).AsTask();

        public async Task CompleteAsync(CancellationToken ct)
        {
            await _stream!.FlushAsync(ct);
            await _stream.DisposeAsync();
            _stream = null;
            if (_unpack)
            {
                Directory.CreateDirectory(_dest);
                await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(_temp, _dest, overwriteFiles: true, ct);
                File.Delete(_temp);
            }
            else
            {
                File.Move(_temp, _dest, overwrite: true);
            }
        }

        public void Dispose()
        {
            if (_stream is null) return;
            _stream.Dispose();
            File.Delete(_temp);
        }
    }
}
