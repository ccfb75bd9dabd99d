using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Export;

/// <summary>What the assembler wrote: the manifest and config, as descriptors and as content.</summary>
public sealed record AssembledImage(Descriptor Manifest, ImageManifest ManifestContent, Descriptor Config, ImageConfig ConfigContent)
{
    /// <summary>Every blob the image consists of: manifest, config, then layers.</summary>
    public IEnumerable<Descriptor> Blobs => [Manifest, Config, .. ManifestContent.Layers];
}

/// <summary>
/// Turns a build's output into an image in the content store: layers from the layer store, a
/// config whose rootfs and history agree with them, and a manifest. Pure in its inputs: the same
/// snapshot, config and options give byte-identical config and manifest (with SOURCE_DATE_EPOCH
/// nothing depends on the clock).
/// </summary>
public sealed class ImageAssembler(IContentStore content, ILayerStore layers)
{
    /// <summary>The diff_id of a tar with no entries (two zero blocks), which is what an unchanged step diffs to.</summary>
    public static readonly Digest EmptyLayerDiffId = Digest.Sha256(new byte[1024]);

    /// <summary>.NET's TarWriter writes nothing at all when given no entries; that is an empty layer too.</summary>
    private static readonly Digest ZeroByteLayerDiffId = Digest.Sha256([]);

    public static bool IsEmptyLayer(Layer layer) => layer.DiffId == EmptyLayerDiffId || layer.DiffId == ZeroByteLayerDiffId;

    public async Task<AssembledImage> AssembleAsync(BuildOutput output, ExportOptions options, CancellationToken ct)
    {
        var chain = await layers.LayersAsync(output.SnapshotId, options.Compression, options.SourceDateEpoch, ct).ConfigureAwait(false);
        var (imageLayers, history) = NormaliseLayersAndHistory(chain, output.Config.History);
        history = ClampCreated(DateHistory(history, imageLayers, options.SourceDateEpoch), options.SourceDateEpoch);

        var config = output.Config with
        {
            Created = options.SourceDateEpoch ?? output.Config.Created ?? history.LastOrDefault(h => h.Created is not null)?.Created,
            RootFs = new RootFs { DiffIds = imageLayers.Select(l => l.DiffId).ToList() },
            History = history,
        };
        var configDescriptor = await PutJsonAsync(config.ToJson(), options.OciMediaTypes ? MediaTypes.OciConfig : MediaTypes.DockerConfig, ct).ConfigureAwait(false);

        var manifest = new ImageManifest
        {
            MediaType = options.OciMediaTypes ? MediaTypes.OciManifest : MediaTypes.DockerManifest,
            Config = configDescriptor,
            Layers = imageLayers.Select(l => l.Blob with { MediaType = MediaTypes.LayerMediaType(l.Blob.MediaType, options.OciMediaTypes) }).ToList(),
        };
        var manifestDescriptor = await PutJsonAsync(manifest.ToJson(), manifest.MediaType, ct).ConfigureAwait(false);
        return new AssembledImage(manifestDescriptor, manifest, configDescriptor, config);
    }

    /// <summary>
    /// Pairs the history entries that claim a layer with the chain's layers, in order, the way
    /// BuildKit normalises them: missing entries are added in front (base layers often come
    /// without one); surplus claims are marked empty from the oldest on; then every layer that
    /// diffs to an empty tar is dropped and its entry marked empty_layer.
    /// </summary>
    internal static (IReadOnlyList<Layer> Layers, IReadOnlyList<HistoryEntry> History) NormaliseLayersAndHistory(
        IReadOnlyList<Layer> chain, IReadOnlyList<HistoryEntry> history)
    {
        var entries = MatchHistoryToLayerCount(history, chain.Count);
        var keptLayers = new List<Layer>();
        var keptHistory = new List<HistoryEntry>();
        var next = 0;
        foreach (var entry in entries)
        {
            if (entry.EmptyLayer == true)
            {
                keptHistory.Add(entry);
                continue;
            }
            var layer = chain[next++];
            if (IsEmptyLayer(layer))
            {
                keptHistory.Add(entry with { EmptyLayer = true });
                continue;
            }
            keptLayers.Add(layer);
            // Docker omits empty_layer rather than writing false; so do we, for one canonical form.
            keptHistory.Add(entry with { EmptyLayer = null });
        }
        return (keptLayers, keptHistory);
    }

    private static List<HistoryEntry> MatchHistoryToLayerCount(IReadOnlyList<HistoryEntry> history, int layerCount)
    {
        var entries = history.ToList();
        var claims = entries.Count(h => h.EmptyLayer != true);

        var missing = layerCount - claims;
        if (missing > 0)
            entries.InsertRange(0, Enumerable.Repeat(new HistoryEntry { Comment = "layer without a history entry" }, missing));

        for (var i = 0; i < entries.Count && claims > layerCount; i++)
        {
            if (entries[i].EmptyLayer == true) continue;
            entries[i] = entries[i] with { EmptyLayer = true };
            claims--;
        }
        return entries;
    }

    /// <summary>
    /// Dates the history entries the build wrote, which come undated: the frontend cannot know when
    /// a step's result was made, since a cached step was made by an earlier build. A layer's entry
    /// gets the time its snapshot was made and an empty-layer entry the date of the entry before it,
    /// so a fully cached rebuild assembles the very same config and image ID, as Docker's does.
    /// With SOURCE_DATE_EPOCH every undated entry gets the epoch. Entries are in normalised order:
    /// the ones that are not empty_layer pair with <paramref name="layers"/> one by one.
    /// </summary>
    private static IReadOnlyList<HistoryEntry> DateHistory(IReadOnlyList<HistoryEntry> history, IReadOnlyList<Layer> layers, DateTimeOffset? epoch)
    {
        var dated = new List<HistoryEntry>(history.Count);
        var next = 0;
        DateTimeOffset? previous = null;
        foreach (var entry in history)
        {
            var made = entry.EmptyLayer == true ? null : layers[next++].Created;
            var created = entry.Created ?? epoch ?? made ?? previous;
            dated.Add(entry with { Created = created });
            previous = created ?? previous;
        }
        return dated;
    }

    /// <summary>
    /// With SOURCE_DATE_EPOCH no history entry is newer than the epoch (and an undated one gets it);
    /// older dates, such as a base image's, are kept, as BuildKit does.
    /// </summary>
    private static IReadOnlyList<HistoryEntry> ClampCreated(IReadOnlyList<HistoryEntry> history, DateTimeOffset? epoch) =>
        epoch is not { } limit ? history
        : history.Select(h => h.Created is { } created && created <= limit ? h : h with { Created = limit }).ToList();

    private async Task<Descriptor> PutJsonAsync(byte[] json, string mediaType, CancellationToken ct)
    {
        // Configs and manifests are small documents; only layers must be streamed.
        using var stream = new MemoryStream(json, writable: false);
        return await content.PutAsync(stream, mediaType, Digest.Sha256(json), ct).ConfigureAwait(false);
    }
}
