using System.Threading.Channels;
using Builder.Api.V1;
using Builder.Build;
using Builder.Core.Solver;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Builder.Daemon.Control;

/// <summary>The solver's progress events as API status events (also what <c>--progress rawjson</c> prints).</summary>
public static class StatusEvents
{
    public static SolveStatus From(ProgressEvent progress)
    {
        var status = new SolveStatus { Time = Timestamp.FromDateTimeOffset(progress.Time) };
        var digest = progress.Vertex.Digest.ToString();
        var name = progress.Vertex.Name;
        switch (progress)
        {
            case VertexStarted:
                status.Vertex = new VertexEvent { Digest = digest, Name = name, Kind = VertexEvent.Types.Kind.Started };
                break;
            case VertexCached:
                status.Vertex = new VertexEvent { Digest = digest, Name = name, Kind = VertexEvent.Types.Kind.Cached };
                break;
            case VertexCompleted done:
                status.Vertex = new VertexEvent { Digest = digest, Name = name, Kind = VertexEvent.Types.Kind.Completed, Duration = Duration.FromTimeSpan(done.Duration) };
                break;
            case VertexFailed failed:
                status.Vertex = new VertexEvent { Digest = digest, Name = name, Kind = VertexEvent.Types.Kind.Failed, Error = failed.Error };
                break;
            case Core.Solver.VertexLog log:
                status.Log = new Api.V1.VertexLog { Digest = digest, Name = name, Stream = log.Stream, Data = ByteString.CopyFrom(log.Data.Span) };
                break;
        }
        return status;
    }

    public static SolveStatus Message(string line) => new() { Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Message = line };

    public static SolveStatus Warning(string text) => new() { Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Warning = text };
}

/// <summary>A build's progress queued for the response stream (the solver never waits for a slow client).</summary>
public sealed class ChannelProgress(ChannelWriter<SolveStatus> writer) : IBuildProgress
{
    public void Report(ProgressEvent progress) => writer.TryWrite(StatusEvents.From(progress));

    public void Message(string line) => writer.TryWrite(StatusEvents.Message(line));

    public void Warning(string text) => writer.TryWrite(StatusEvents.Warning(text));
}
