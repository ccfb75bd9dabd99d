using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>
/// Blobs by digest. Every write is verified against its digest and published atomically
/// (temp file, fsync, rename), so a reader never sees a partial blob and a crash leaves at
/// worst an orphaned temp file that start-up removes.
/// </summary>
public interface IContentStore
{
    bool Exists(Digest digest);

    /// <summary>Size of a stored blob, or null when absent.</summary>
    long? SizeOf(Digest digest);

    /// <summary>Opens a stored blob; throws <see cref="FileNotFoundException"/> when absent.</summary>
    Stream OpenRead(Digest digest);

    /// <summary>
    /// Starts writing a blob whose digest is computed as it streams. Nothing is visible until
    /// <see cref="IContentWriter.CommitAsync"/>; disposing an uncommitted writer deletes its temp file.
    /// </summary>
    IContentWriter OpenWriter();

    /// <summary>Streams <paramref name="content"/> in; fails, storing nothing, if <paramref name="expected"/> is given and differs.</summary>
    Task<Descriptor> PutAsync(Stream content, string mediaType, Digest? expected, CancellationToken ct);

    Task<byte[]> ReadAllBytesAsync(Digest digest, CancellationToken ct);

    Task DeleteAsync(Digest digest, CancellationToken ct);

    IEnumerable<Digest> List();
}

public interface IContentWriter : IAsyncDisposable
{
    /// <summary>Write the blob here. It is hashed as it is written.</summary>
    Stream Stream { get; }

    /// <summary>Verifies (when <paramref name="expected"/> is given), fsyncs and publishes the blob.</summary>
    Task<Descriptor> CommitAsync(string mediaType, Digest? expected, CancellationToken ct);
}

/// <summary>Names (<c>docker.io/library/hello:latest</c>) → the manifest or index they point at.</summary>
public interface IImageStore
{
    Task<ImageRecord?> GetAsync(string name, CancellationToken ct);

    /// <summary>Points <paramref name="name"/> at <paramref name="target"/>, replacing any previous target atomically.</summary>
    Task PutAsync(string name, Descriptor target, CancellationToken ct);

    Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken ct);

    Task<bool> DeleteAsync(string name, CancellationToken ct);
}

public sealed record ImageRecord(string Name, Descriptor Target, DateTimeOffset Updated);
