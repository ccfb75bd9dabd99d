using System.Security.Cryptography;
using System.Text;
using Builder.Api.V1;
using Builder.Core.Context;
using Builder.Core.Filesystem;
using Google.Protobuf;
using Grpc.Core;

namespace Builder.Cli.Remote;

/// <summary>
/// The client side of FileSync: lists a directory (the ignore filter applied here, so ignored
/// files never cross the socket), sends what the daemon asks for, and keeps the stream open —
/// the daemon keeps the mirror fixed for the session until <see cref="DisposeAsync"/>.
/// </summary>
public sealed class ContextUploader : IAsyncDisposable
{
    private const int EntriesPerMessage = 2000;
    private const int ChunkSize = 256 * 1024;

    private readonly AsyncDuplexStreamingCall<SyncPacket, SyncReply> _call;

    private ContextUploader(AsyncDuplexStreamingCall<SyncPacket, SyncReply> call, SyncDone done)
    {
        _call = call;
        Done = done;
    }

    public SyncDone Done { get; }

    public static async Task<ContextUploader> SyncAsync(DaemonClient client, string session, string name, string directory, IPathFilter filter, CancellationToken ct)
    {
        var call = client.FileSync.Sync(cancellationToken: ct);
        try
        {
            var requests = call.RequestStream;
            await requests.WriteAsync(new SyncPacket { Header = new SyncHeader { Session = session, Name = name, ContextKey = ContextKey(directory) } }, ct);

            var walker = new ContextWalker(directory, filter);
            var entries = new List<ContextEntry>();
            var batch = new FileEntries();
            foreach (var entry in walker.Walk(ct))
            {
                entries.Add(entry);
                batch.Entries.Add(new FileEntry
                {
                    Path = entry.Path,
                    Mode = TypeBits(entry.Type) | entry.Status.Mode,
                    Uid = entry.Status.Uid,
                    Gid = entry.Status.Gid,
                    Size = entry.Status.Size,
                    MtimeNs = entry.Status.MtimeNs,
                    LinkTarget = entry.LinkTarget ?? "",
                });
                if (batch.Entries.Count == EntriesPerMessage)
                {
                    await requests.WriteAsync(new SyncPacket { Entries = batch }, ct);
                    batch = new FileEntries();
                }
            }
            if (batch.Entries.Count > 0) await requests.WriteAsync(new SyncPacket { Entries = batch }, ct);
            await requests.WriteAsync(new SyncPacket { EndOfList = new EndOfList() }, ct);

            var buffer = new byte[ChunkSize];
            while (await call.ResponseStream.MoveNext(ct))
            {
                var reply = call.ResponseStream.Current;
                if (reply.ReplyCase == SyncReply.ReplyOneofCase.Done) return new ContextUploader(call, reply.Done);
                foreach (var index in reply.Want.Indices)
                    await SendFileAsync(requests, index, walker.AbsolutePath(entries[(int)index].Path), buffer, ct);
            }
            throw new IOException("the daemon ended the file sync early");
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    private static async Task SendFileAsync(IClientStreamWriter<SyncPacket> requests, uint index, string path, byte[] buffer, CancellationToken ct)
    {
        await using var file = new FileStream(Native.OpenForReading(path), FileAccess.Read, bufferSize: 0);
        while (true)
        {
            var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
            var eof = read < buffer.Length;
            await requests.WriteAsync(new SyncPacket { Data = new FileData { Index = index, Data = ByteString.CopyFrom(buffer, 0, read), Eof = eof } }, ct);
            if (eof) return;
        }
    }

    /// <summary>One key per directory of this machine, so every build of it updates the same mirror.</summary>
    public static string ContextKey(string directory)
    {
        var machine = File.Exists("/etc/machine-id") ? File.ReadAllText("/etc/machine-id").Trim() : Environment.MachineName;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{machine}\0{Path.GetFullPath(directory)}")));
    }

    private static uint TypeBits(EntryType type) => type switch
    {
        EntryType.File => 0x8000,
        EntryType.Directory => 0x4000,
        EntryType.Symlink => 0xA000,
        EntryType.Fifo => 0x1000,
        EntryType.Socket => 0xC000,
        EntryType.CharDevice => 0x2000,
        _ => 0x6000,
    };

    public async ValueTask DisposeAsync()
    {
        try { await _call.RequestStream.CompleteAsync(); }
        catch (Exception) { /* the daemon is gone: nothing to release */ }
        _call.Dispose();
    }
}
