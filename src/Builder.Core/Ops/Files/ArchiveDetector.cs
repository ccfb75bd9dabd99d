using System.IO.Compression;
using System.Text;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Recognises the archives ADD extracts, by their bytes, never by their names: a tar, or a tar
/// compressed with gzip, bzip2, xz or zstd. A compressed file whose content is not a tar is not an
/// archive (ADD copies it as it is), as Docker decides.
/// </summary>
internal static class ArchiveDetector
{
    public enum Compression { None, Gzip, Bzip2, Xz, Zstd }

    public static Compression DetectCompression(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b])) return Compression.Gzip;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x42, 0x5a, 0x68])) return Compression.Bzip2;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return Compression.Xz;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd])) return Compression.Zstd;
        return Compression.None;
    }

    /// <summary>True when the file is a tar, plain or compressed in a format this build can read.</summary>
    public static bool IsArchive(string path)
    {
        try
        {
            using var stream = OpenTar(path);
            if (stream is null) return false;
            Span<byte> header = stackalloc byte[512];
            return stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == 512 && IsTarHeader(header);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ICSharpCode.SharpZipLib.SharpZipBaseException or ZstdSharp.ZstdException or InvalidOperationException or NotSupportedException or ArgumentException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>The file as an uncompressed stream (null is kept for formats a build cannot read; none today).</summary>
    public static Stream? OpenTar(string path)
    {
        var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[6];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        switch (DetectCompression(head[..read]))
        {
            case Compression.Gzip: return new GZipStream(file, CompressionMode.Decompress);
            case Compression.Bzip2: return new ICSharpCode.SharpZipLib.BZip2.BZip2InputStream(file);
            case Compression.Zstd: return new ZstdSharp.DecompressionStream(file);
            case Compression.Xz: return new SharpCompress.Compressors.Xz.XZStream(file);
            default: return file;
        }
    }

    /// <summary>A 512-byte tar header: "ustar" magic, or (old V7 tars) a header checksum that adds up.</summary>
    internal static bool IsTarHeader(ReadOnlySpan<byte> header)
    {
        if (header[257..262].SequenceEqual("ustar"u8)) return true;
        var stored = Encoding.ASCII.GetString(header[148..156]).Trim('\0', ' ');
        if (stored.Length == 0) return false;
        long expected;
        try { expected = Convert.ToInt64(stored, 8); }
        catch (FormatException) { return false; }
        long sum = 0;
        for (var i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        return sum == expected && header[0] != 0;
    }
}
