using Builder.Core.Export;
using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>
/// A base image: keyed by its manifest digest (so a moved tag is a new key), materialised by
/// unpacking each layer into a snapshot keyed by its chain id — done once, shared by all builds.
/// </summary>
/// <param name="pull">makes the image local before it is unpacked: downloads the layers the content store lacks (the registry's job) and keeps the image under its name, as <c>docker pull</c> does.</param>
public sealed class ImageSourceWorker(IImageResolver resolver, IContentStore content, ISnapshotter snapshotter, ILayerStore layers,
    Func<ResolvedImage, CancellationToken, Task> pull) : IOpWorker
{
    public bool Cacheable => true;

    public async Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
    {
        // Content only: the same manifest is the same filesystem whatever name or layout path it came by.
        var image = await ResolveAsync(vertex, session, ct).ConfigureAwait(false);
        var op = (ImageSourceOp)vertex.Op;
        return new OpKey(CacheKey.Of(new ImageSourceOp("", op.Platform), [image.ManifestDigest.ToString()]));
    }

    public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
    {
        var image = await ResolveAsync(vertex, session, ct).ConfigureAwait(false);
        await pull(image, ct).ConfigureAwait(false);
        var diffIds = image.Config.RootFs.DiffIds;
        if (diffIds.Count != image.Manifest.Layers.Count)
            throw new InvalidDataException($"{image.Reference}: config lists {diffIds.Count} layers but the manifest has {image.Manifest.Layers.Count}");

        string? parent = null;
        Digest? chainId = null;
        for (var i = 0; i < diffIds.Count; i++)
        {
            chainId = NextChainId(chainId, diffIds[i]);
            var blob = image.Manifest.Layers[i];
            var snapshot = await snapshotter.ApplyLayerAsync(
                chainId.Value.ToString(), parent,
                async token => await Decompression.OpenAsync(content.OpenRead(blob.Digest), token).ConfigureAwait(false),
                ct).ConfigureAwait(false);
            await layers.RecordAsync(snapshot.Id, new Layer(blob, diffIds[i]), ct).ConfigureAwait(false);
            parent = snapshot.Id;
        }
        return new OpOutput(parent);
    }

    /// <summary>The OCI chain id: the first layer's diff id, then sha256("parent-chain-id diff-id").</summary>
    public static Digest NextChainId(Digest? parent, Digest diffId) =>
        parent is null ? diffId : Digest.Sha256($"{parent} {diffId}");

    /// <summary>Resolves once per build: the key and the unpack must see the same manifest even if the tag moves meanwhile.</summary>
    private Task<ResolvedImage> ResolveAsync(Vertex vertex, SolveSession session, CancellationToken ct)
    {
        var op = (ImageSourceOp)vertex.Op;
        var task = (Task<ResolvedImage>)session.Items.GetOrAdd($"image:{op.Reference}|{op.Platform}",
            _ => resolver.ResolveAsync(op.Reference, Platform.Parse(op.Platform), ct));
        return task;
    }
}
