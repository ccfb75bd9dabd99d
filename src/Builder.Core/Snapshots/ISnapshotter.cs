namespace Builder.Core.Snapshots;

/// <summary>
/// Filesystem snapshots as stacked overlay layers. A committed snapshot is immutable: its own
/// directory holds only what changed relative to its parent (an overlay upper dir, with overlay
/// whiteouts), so a layer diff walks that directory alone. Everything is persisted under
/// <see cref="State.StateRoot.SnapshotsDir"/> with metadata in the state database.
/// </summary>
public interface ISnapshotter
{
    /// <summary>
    /// A writable filesystem over <paramref name="parentId"/> (null: empty), mounted at
    /// <see cref="IActiveSnapshot.MountPath"/>. Disposing it without committing unmounts and deletes it.
    /// </summary>
    Task<IActiveSnapshot> PrepareAsync(string? parentId, CancellationToken ct);

    /// <summary>A read-only mount of a committed snapshot's whole filesystem; disposing unmounts it.</summary>
    Task<IMountedView> ViewAsync(string snapshotId, CancellationToken ct);

    /// <summary>
    /// Unpacks one image layer (an uncompressed tar stream) as a committed snapshot over
    /// <paramref name="parentId"/>, stored under <paramref name="chainId"/> so every build shares it.
    /// Returns at once when that chain id is already present.
    /// </summary>
    Task<SnapshotInfo> ApplyLayerAsync(string chainId, string? parentId, Func<CancellationToken, Task<Stream>> openLayer, CancellationToken ct);

    Task<SnapshotInfo?> StatAsync(string snapshotId, CancellationToken ct);

    /// <summary>The snapshot and its ancestors, base first.</summary>
    Task<IReadOnlyList<SnapshotInfo>> ChainAsync(string snapshotId, CancellationToken ct);

    /// <summary>Removes a committed snapshot that no other snapshot uses as parent.</summary>
    Task RemoveAsync(string snapshotId, CancellationToken ct);

    /// <summary>Unmounts and deletes whatever a crashed process left active. Called once at start-up.</summary>
    Task CleanupAsync(CancellationToken ct);
}

/// <param name="DiffDir">the directory holding exactly this snapshot's changes (overlay format).</param>
public sealed record SnapshotInfo(string Id, string? ParentId, string DiffDir, DateTimeOffset Created);

public interface IActiveSnapshot : IAsyncDisposable
{
    string Id { get; }

    /// <summary>The merged, writable view (where a RUN's rootfs or a COPY's destination is).</summary>
    string MountPath { get; }

    /// <summary>Unmounts and makes the snapshot immutable. The object must not be used afterwards except to dispose.</summary>
    Task<SnapshotInfo> CommitAsync(CancellationToken ct);
}

public interface IMountedView : IAsyncDisposable
{
    string MountPath { get; }
}

/// <summary>Turns a committed snapshot's diff dir into an OCI layer tar (the reverse of applying).</summary>
public interface ILayerDiffer
{
    /// <summary>
    /// Writes the uncompressed layer tar of <paramref name="snapshot"/> to <paramref name="output"/>:
    /// entries sorted, overlay whiteouts turned into OCI ones, every header field set explicitly.
    /// <paramref name="timestamp"/> clamps mtimes (SOURCE_DATE_EPOCH) when set.
    /// </summary>
    Task WriteLayerAsync(SnapshotInfo snapshot, Stream output, DateTimeOffset? timestamp, CancellationToken ct);
}
