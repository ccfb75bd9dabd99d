using System.IO.Compression;

namespace Builder.Core.Oci;

/// <summary>
/// Opens a layer blob as its uncompressed tar. The format is detected from the first bytes,
/// not trusted from the media type: registries and archives mislabel layers often enough.
/// </summary>
public static class Decompression
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];

    public static async Task<Stream> OpenAsync(Stream blob, CancellationToken ct)
    {
        var head = new byte[4];
        var read = await ReadPrefixAsync(blob, head, ct).ConfigureAwait(false);
        var whole = new ReplayedPrefixStream(head.AsMemory(0, read), blob);
        var prefix = head.AsSpan(0, read);
        if (prefix.StartsWith(GzipMagic)) return new GZipStream(whole, CompressionMode.Decompress);
        if (prefix.StartsWith(ZstdMagic)) return new ZstdSharp.DecompressionStream(whole);
        return whole;
    }

    private static async Task<int> ReadPrefixAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}

/// <summary>A read-only stream that yields bytes already read from <paramref name="rest"/> before the rest of it (works on unseekable network streams).</summary>
internal sealed class ReplayedPrefixStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefix.IsEmpty) return rest.Read(buffer);
        var n = Math.Min(buffer.Length, _prefix.Length);
        _prefix.Span[..n].CopyTo(buffer);
        _prefix = _prefix[n..];
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_prefix.IsEmpty) return await rest.ReadAsync(buffer, ct).ConfigureAwait(false);
        var n = Math.Min(buffer.Length, _prefix.Length);
        _prefix.Span[..n].CopyTo(buffer.Span);
        _prefix = _prefix[n..];
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) rest.Dispose();
        base.Dispose(disposing);
    }
}
