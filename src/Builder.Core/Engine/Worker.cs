using Builder.Core.Context;
using Builder.Core.Execution;
using Builder.Core.Export;
using Builder.Core.Oci;
using Builder.Core.Ops;
using Builder.Core.Registry;
using Builder.Core.Snapshots;
using Builder.Core.Solver;
using Builder.Core.State;

namespace Builder.Core.Engine;

/// <summary>
/// Every part of the engine, built once from a state root and shared by the builds that use it
/// (BuildKit calls this the worker). The CLI's embedded mode and the daemon both start here.
/// </summary>
public sealed class Worker : IAsyncDisposable
{
    private readonly RegistryClientFactory _registries;

    private Worker(StateRoot root, IContentStore content, IImageStore images, ISnapshotter snapshots, ILayerStore layers,
        IImageResolver resolver, ISolver solver, RegistryClientFactory registries)
    {
        _registries = registries;
        Root = root;
        Content = content;
        Images = images;
        Snapshots = snapshots;
        Layers = layers;
        ImageResolver = resolver;
        Solver = solver;
    }

    public StateRoot Root { get; }
    public IContentStore Content { get; }
    public IImageStore Images { get; }
    public ISnapshotter Snapshots { get; }
    public ILayerStore Layers { get; }
    public IImageResolver ImageResolver { get; }

    /// <summary>
    /// The resolver a build's frontend uses: with <paramref name="alwaysPull"/> (<c>--pull</c>) base
    /// images are re-read from their registry even when stored. Only the frontend needs the choice:
    /// it pins what it resolved by digest, which the solve then finds locally.
    /// </summary>
    public IImageResolver ResolverFor(bool alwaysPull) => !alwaysPull ? ImageResolver : new ImageResolvers(
        new StoreImageResolver(Images, Content), new OciLayoutResolver(Content),
        new RegistryImageResolver(_registries, Content, new BlobLocations(Root)) { AlwaysPull = true }, alwaysPull: true);
    public ISolver Solver { get; }

    /// <summary>Writes a solve's records as a cache artifact (<c>--cache-to</c>).</summary>
    public Export.Cache.CacheExporter CacheExporter =>
        new(Content, Layers, Snapshots, _registries);

    /// <summary>Reads cache artifacts (<c>--cache-from</c>) for a build.</summary>
    public Export.Cache.CacheImporter CacheImporter => new(Content, Snapshots, Layers, _registries);

    /// <summary>
    /// Opens the state root: creates what is missing and removes what a crashed process left
    /// (running containers, mounts, active snapshots, temp blobs). The caller holds the <see cref="StateLock"/>.
    /// </summary>
    public static async Task<Worker> OpenAsync(StateRoot root, CancellationToken ct)
    {
        root.EnsureCreated();
        var content = new ContentStore(root);
        var images = new ImageStore(root);
        // Containers first: their processes keep the rootfs mounts busy.
        var executor = new RuncExecutor(root);
        await executor.RemoveLeftoversAsync(ct).ConfigureAwait(false);
        var snapshots = await OverlaySnapshotter.OpenAsync(root, ct).ConfigureAwait(false);
        await snapshots.CleanupAsync(ct).ConfigureAwait(false);
        ExecWorker.RemoveLeftovers(ExecScratchDir(root));
        var layers = new LayerStore(root, content, snapshots, new LayerDiffer());
        var registries = new RegistryClientFactory(RegistryOptions.FromEnvironment());
        var registry = new RegistryImageResolver(registries, content, new BlobLocations(root));
        var resolver = new ImageResolvers(new StoreImageResolver(images, content), new OciLayoutResolver(content), registry);

        var statCaches = new ContextStatCaches(root);
        var workers = new OpWorkers(
            new ImageSourceWorker(resolver, content, snapshots, layers, new BaseImagePull(registry, images, content).PullAsync),
            new LocalSourceWorker(
                patterns => patterns.Count == 0 ? IncludeEverything.Instance : IgnorePatterns.Parse(string.Join('\n', patterns)),
                (dir, filter) => new ContextChecksummer(dir, filter, statCaches.For(dir))),
            new ExecWorker(snapshots, executor, new CacheMounts(root.CacheMountsDir), ExecScratchDir(root)),
            new FileWorker(snapshots),
            new HttpSourceWorker(snapshots, root.TempDir));
        var cache = new SqliteCacheRecords(root, async (id, token) => await snapshots.StatAsync(id, token).ConfigureAwait(false) is not null);
        return new Worker(root, content, images, snapshots, layers, resolver, new Solver.Solver(workers, cache), registries);
    }

    private static string ExecScratchDir(StateRoot root) => Path.Combine(root.TempDir, "exec");

    /// <summary>Turns images of the local store (uncompressed layers) into what a registry is sent.</summary>
    public LayerConversion LayerConversion => new(Root, Content, Layers);

    /// <summary>The exporter for one <c>-o type=…</c> output.</summary>
    public IExporter ExporterFor(string type, IReadOnlyDictionary<string, string> attributes, IReadOnlyList<string> names)
    {
        var assembler = new ImageAssembler(Content, Layers);
        var normalized = names.Select(n => ImageReference.Parse(n).ToString()).ToList();
        string Dest() => attributes.TryGetValue("dest", out var dest) ? Path.GetFullPath(dest) : throw new ArgumentException($"type={type} needs dest=PATH");
        IExporter Pushing() => new RegistryExporter(assembler, Images, new RegistryPusher(_registries, Content, new BlobLocations(Root)), LayerConversion, normalized);
        return type switch
        {
            "image" when attributes.GetValueOrDefault("push") == "true" => Pushing(),
            "image" => new ImageStoreExporter(assembler, Images, normalized, CompressionOf(attributes) ?? LayerCompression.Uncompressed),
            "registry" => Pushing(),
            "oci" => new OciArchiveExporter(assembler, Content, Dest(), normalized.FirstOrDefault()),
            "docker" => new DockerArchiveExporter(assembler, Content, Dest(), normalized),
            "local" => new LocalDirExporter(Snapshots, Dest()),
            "tar" => new TarExporter(Snapshots, Dest()),
            _ => throw new ArgumentException($"unknown output type \"{type}\""),
        };
    }

    /// <summary><c>compression=gzip|zstd|uncompressed</c> of an output, when given.</summary>
    private static LayerCompression? CompressionOf(IReadOnlyDictionary<string, string> attributes) =>
        attributes.GetValueOrDefault("compression") switch
        {
            null => null,
            "gzip" => LayerCompression.Gzip,
            "zstd" => LayerCompression.Zstd,
            "uncompressed" => LayerCompression.Uncompressed,
            var other => throw new ArgumentException($"unknown compression \"{other}\" (expected gzip, zstd or uncompressed)"),
        };

    public ValueTask DisposeAsync()
    {
        _registries.Dispose();
        return ValueTask.CompletedTask;
    }
}
