using Builder.Core.Graph;
using Builder.Core.State;

namespace Builder.Core.Oci;

/// <summary>
/// The content store on disk: <c>content/blobs/sha256/&lt;hex&gt;</c>, the OCI image-layout shape.
/// A blob is streamed into a temp file under <see cref="StateRoot.TempDir"/> (same filesystem,
/// so the final rename is atomic), hashed on the way, fsynced, checked, and only then renamed
/// into place. Two writers of the same blob each publish a complete, identical file, so whichever
/// rename lands last is harmless; a reader only ever opens a fully written file.
/// </summary>
public sealed class ContentStore : IContentStore
{
    internal const string TempFilePrefix = "blob-";
    private const int BufferSize = 1 << 16;

    private readonly string _blobsDir;
    private readonly string _tempDir;

    public ContentStore(StateRoot root)
    {
        _blobsDir = Path.Combine(root.ContentDir, "blobs", Digest.Sha256Algorithm);
        _tempDir = root.TempDir;
        Directory.CreateDirectory(_blobsDir);
        Directory.CreateDirectory(_tempDir);
    }

    /// <summary>
    /// Deletes temp files that a crashed or killed writer left behind. Call once at start-up,
    /// while holding the <see cref="StateLock"/>, when no writer of this store can be running.
    /// </summary>
    public int RemoveStaleTempFiles()
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(_tempDir, TempFilePrefix + "*"))
        {
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (FileNotFoundException)
            {
                // Someone else removed it first: the outcome we wanted.
            }
        }
        return removed;
    }

    public bool Exists(Digest digest) => File.Exists(BlobPath(digest));

    public long? SizeOf(Digest digest)
    {
        var info = new FileInfo(BlobPath(digest));
        return info.Exists ? info.Length : null;
    }

    public Stream OpenRead(Digest digest)
    {
        var path = BlobPath(digest);
        if (!File.Exists(path)) throw new FileNotFoundException($"blob {digest} is not in the content store", path);
        // FileShare.Delete: a blob being garbage-collected stays readable to whoever opened it.
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    public IContentWriter OpenWriter()
    {
        var tempPath = Path.Combine(_tempDir, $"{TempFilePrefix}{Guid.NewGuid():N}");
        var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
        return new ContentWriter(this, file, tempPath);
    }

    public async Task<Descriptor> PutAsync(Stream content, string mediaType, Digest? expected, CancellationToken ct)
    {
        // A verified copy is already here: the caller's stream would only produce the same bytes.
        if (expected is { } known && SizeOf(known) is { } size)
            return new Descriptor(mediaType, known, size);

        await using var writer = OpenWriter();
        await content.CopyToAsync(writer.Stream, BufferSize, ct).ConfigureAwait(false);
        return await writer.CommitAsync(mediaType, expected, ct).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadAllBytesAsync(Digest digest, CancellationToken ct)
    {
        var path = BlobPath(digest);
        try
        {
            return await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"blob {digest} is not in the content store", path, e);
        }
    }

    public Task DeleteAsync(Digest digest, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        File.Delete(BlobPath(digest));
        return Task.CompletedTask;
    }

    public IEnumerable<Digest> List()
    {
        foreach (var path in Directory.EnumerateFiles(_blobsDir))
        {
            // Skip anything that is not named like a blob rather than failing a whole listing.
            if (Digest.TryParse($"{Digest.Sha256Algorithm}:{Path.GetFileName(path)}", out var digest))
                yield return digest;
        }
    }

    internal string BlobPath(Digest digest)
    {
        if (digest.IsEmpty) throw new ArgumentException("empty digest", nameof(digest));
        return Path.Combine(_blobsDir, digest.Hex);
    }

    /// <summary>Moves a complete, fsynced temp file into place and makes the rename itself durable.</summary>
    internal void Publish(string tempPath, Digest digest)
    {
        var finalPath = BlobPath(digest);
        if (File.Exists(finalPath))
        {
            File.Delete(tempPath);
            return;
        }
        File.Move(tempPath, finalPath, overwrite: true);
        DirectorySync.Flush(_blobsDir);
    }

    private sealed class ContentWriter(ContentStore store, FileStream file, string tempPath) : IContentWriter
    {
        private readonly DigestingStream _digesting = new(file, leaveOpen: true);
        private bool _finished;

        public Stream Stream => _digesting;

        public async Task<Descriptor> CommitAsync(string mediaType, Digest? expected, CancellationToken ct)
        {
            if (_finished) throw new InvalidOperationException("this content writer was already committed or failed");
            _finished = true;

            await file.FlushAsync(ct).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            var size = file.Length;
            await file.DisposeAsync().ConfigureAwait(false);

            var actual = _digesting.Digest;
            if (expected is { } wanted && wanted != actual)
            {
                File.Delete(tempPath);
                throw new InvalidDataException($"content digest mismatch: expected {wanted}, got {actual} ({size} bytes); nothing was stored");
            }

            store.Publish(tempPath, actual);
            return new Descriptor(mediaType, actual, size);
        }

        public async ValueTask DisposeAsync()
        {
            await _digesting.DisposeAsync().ConfigureAwait(false);
            await file.DisposeAsync().ConfigureAwait(false);
            // Published files were moved away; anything still here is an abandoned write.
            File.Delete(tempPath);
        }
    }
}
