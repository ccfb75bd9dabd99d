using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Export;

public enum LayerCompression { Gzip, Zstd, Uncompressed }

/// <summary>One image layer: its stored blob and the digest of its uncompressed tar (the diff_id).</summary>
public sealed record Layer(Descriptor Blob, Digest DiffId)
{
    /// <summary>When the snapshot this layer was diffed from was made (set by <see cref="ILayerStore.LayersAsync"/>); dates the step's history entry.</summary>
    public DateTimeOffset? Created { get; init; }

    // The date says when this copy was made, not what the layer is: equal content is the same layer.
    public bool Equals(Layer? other) => other is not null && Blob == other.Blob && DiffId == other.DiffId;

    public override int GetHashCode() => HashCode.Combine(Blob, DiffId);
}

/// <summary>
/// The layers of snapshot chains. A snapshot's layer is diffed and compressed at most once per
/// compression, then remembered; layers unpacked from an image keep the blob they came from.
/// </summary>
public interface ILayerStore
{
    /// <summary>One layer per snapshot of the chain ending at <paramref name="snapshotId"/>, base first (empty for null).</summary>
    Task<IReadOnlyList<Layer>> LayersAsync(string? snapshotId, LayerCompression compression, DateTimeOffset? timestamp, CancellationToken ct);

    /// <summary>Records that <paramref name="snapshotId"/> was unpacked from <paramref name="layer"/>, so export reuses that blob.</summary>
    Task RecordAsync(string snapshotId, Layer layer, CancellationToken ct);

    /// <summary>A stored blob of the layer whose uncompressed digest is <paramref name="diffId"/>, in <paramref name="compression"/>, if one was made.</summary>
    Task<Descriptor?> FindBlobAsync(Digest diffId, LayerCompression compression, CancellationToken ct);
}

/// <summary>
/// What a build produced. <see cref="ImageConfig.History"/> holds one entry per step with
/// <c>EmptyLayer</c> true for metadata-only steps; the assembler fills rootfs.diff_ids and marks
/// steps whose layer turned out empty.
/// </summary>
public sealed record BuildOutput(string? SnapshotId, ImageConfig Config);

public sealed record ExportOptions
{
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>OCI media types (default, as BuildKit) or Docker schema 2 ones.</summary>
    public bool OciMediaTypes { get; init; } = true;
}

/// <param name="Manifest">the image manifest written, when the exporter makes an image.</param>
public sealed record ExportResult(Descriptor? Manifest, Digest? ConfigDigest);

/// <summary>Sends a build's result somewhere: the image store, an archive, a directory.</summary>
public interface IExporter
{
    Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct);
}
