using Builder.Api.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Builder.Daemon.FileSync;

/// <summary>FileSync.Sync: see filesync.proto for the conversation.</summary>
public sealed class FileSyncService(ContextMirrors mirrors, Sessions sessions, Counters counters, Gc.BuildGate gate, ILogger<FileSyncService> log) : Api.V1.FileSync.FileSyncBase
{
    private const int WantBatch = 16 * 1024;

    public override async Task Sync(IAsyncStreamReader<SyncPacket> requests, IServerStreamWriter<SyncReply> replies, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requests.MoveNext(ct) || requests.Current.PacketCase != SyncPacket.PacketOneofCase.Header)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a sync starts with a header"));
        var header = requests.Current.Header;
        if (header.Session.Length == 0 || header.Name.Length == 0)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the header needs a session and a name"));

        var entries = new List<FileEntry>();
        while (true)
        {
            if (!await requests.MoveNext(ct)) throw new RpcException(new Status(StatusCode.InvalidArgument, "the file list ended without end_of_list"));
            var packet = requests.Current;
            if (packet.PacketCase == SyncPacket.PacketOneofCase.EndOfList) break;
            if (packet.PacketCase != SyncPacket.PacketOneofCase.Entries) throw new RpcException(new Status(StatusCode.InvalidArgument, "expected file entries"));
            entries.AddRange(packet.Entries.Entries);
        }

        // A session counts as a build for the garbage collector: its mirror is not pruned under it.
        using var building = await gate.BuildAsync(ct);
        var mirror = mirrors.For(header.ContextKey, header.Name);
        var stats = new SyncStats();
        IDisposable lease;
        try
        {
            lease = await mirror.SyncAsync(entries, async (wanted, writer) =>
            {
                for (var i = 0; i < wanted.Count || i == 0; i += WantBatch)
                {
                    var want = new WantFiles();
                    want.Indices.AddRange(wanted.Skip(i).Take(WantBatch).Select(w => (uint)w));
                    await replies.WriteAsync(new SyncReply { Want = want }, ct);
                }
                for (var received = 0; received < wanted.Count;)
                {
                    if (!await requests.MoveNext(ct)) throw new InvalidDataException("the client closed the sync before sending every file");
                    if (requests.Current.PacketCase != SyncPacket.PacketOneofCase.Data) throw new InvalidDataException("expected file data");
                    await writer.WriteAsync(requests.Current.Data, ct);
                    if (requests.Current.Data.Eof) received++;
                }
            }, stats, ct);
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        finally
        {
            counters.Add(Counters.FilesReceived, stats.FilesReceived);
            counters.Add(Counters.BytesReceived, stats.BytesReceived);
            counters.Add(Counters.EntriesListed, entries.Count);
        }

        using (lease)
        {
            log.LogInformation("sync {Session}/{Name}: {Entries} entries, {Files} files and {Bytes} bytes received, {Removed} removed",
                header.Session, header.Name, entries.Count, stats.FilesReceived, stats.BytesReceived, stats.Removed);
            sessions.Add(header.Session, header.Name, mirror.Directory);
            try
            {
                await replies.WriteAsync(new SyncReply
                {
                    Done = new SyncDone { Entries = entries.Count, FilesReceived = stats.FilesReceived, BytesReceived = stats.BytesReceived, Removed = stats.Removed },
                }, ct);
                // The session holds the mirror until the client closes its side.
                while (await requests.MoveNext(ct)) { }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
            finally
            {
                sessions.Remove(header.Session, header.Name);
            }
        }
    }
}
