using Builder.Core.Snapshots;

namespace Builder.Core.Export;

/// <summary><c>--output type=tar,dest=x.tar</c>: the final filesystem as one tar, streamed from a read-only view of the snapshot.</summary>
public sealed class TarExporter(ISnapshotter snapshotter, string destination) : IExporter
{
    public async Task<ExportResult> ExportAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        await AtomicFile.WriteAsync(destination, async (file, token) =>
        {
            if (output.SnapshotId is null)
            {
                // scratch with nothing added: an archive with no entries.
                await new System.Formats.Tar.TarWriter(file, leaveOpen: true).DisposeAsync().ConfigureAwait(false);
                return;
            }
            await using var view = await snapshotter.ViewAsync(output.SnapshotId, token).ConfigureAwait(false);
            await LayerDiffer.WriteTreeAsync(view.MountPath, file, options.SourceDateEpoch, token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return new ExportResult(null, null);
    }
}
