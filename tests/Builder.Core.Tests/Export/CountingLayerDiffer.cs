using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Export;

/// <summary>A differ that tars a snapshot's plain directory and counts how often it was asked.</summary>
public sealed class CountingLayerDiffer : ILayerDiffer
{
    private int _calls;

    public int Calls => _calls;

    public Task WriteLayerAsync(SnapshotInfo snapshot, Stream output, DateTimeOffset? timestamp, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        return LayerDiffer.WriteTreeAsync(snapshot.DiffDir, output, timestamp, ct);
    }
}
