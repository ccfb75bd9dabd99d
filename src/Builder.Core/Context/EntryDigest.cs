using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Builder.Core.Graph;

namespace Builder.Core.Context;

/// <summary>
/// The canonical bytes a context checksum is made of. Every entry starts with a header of what
/// a copy of it preserves — type, permission bits (setuid, setgid, sticky included), owner,
/// link target, size — and never its mtime, so touching a file changes nothing. Each field is
/// length-prefixed, so no two different headers share their bytes.
/// </summary>
internal static class EntryDigest
{
    /// <summary>A regular file: its header, then the SHA-256 of its bytes (which the stat cache can supply without reading).</summary>
    public static Digest ForFile(FileStatus status, Digest content)
    {
        using var hash = HeaderHash(status, linkTarget: null);
        AppendField(hash, content.ToString());
        return Finish(hash);
    }

    /// <summary>A symlink (its target, never followed), fifo, socket or device: the header is all there is.</summary>
    public static Digest ForOther(FileStatus status, string? linkTarget)
    {
        using var hash = HeaderHash(status, linkTarget);
        return Finish(hash);
    }

    /// <summary>A digest over named digests, in the order given: directory contents, wildcard matches.</summary>
    public sealed class Listing : IDisposable
    {
        private readonly IncrementalHash _hash;

        /// <summary>A directory's listing starts with its own header.</summary>
        public Listing(FileStatus directory) => _hash = HeaderHash(directory, linkTarget: null);

        /// <summary>A listing of matches has no entry of its own.</summary>
        public Listing() => _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public void Add(string name, Digest digest)
        {
            AppendField(_hash, name);
            AppendField(_hash, digest.ToString());
        }

        public Digest Finish() => EntryDigest.Finish(_hash);

        public void Dispose() => _hash.Dispose();
    }

    private static IncrementalHash HeaderHash(FileStatus status, string? linkTarget)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendField(hash, status.Type.ToString());
        AppendField(hash, Convert.ToString(status.Mode, 8));
        AppendField(hash, status.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppendField(hash, status.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppendField(hash, linkTarget ?? "");
        // A directory's st_size is a filesystem detail, not content.
        var size = status.Type == EntryType.File ? status.Size : 0;
        AppendField(hash, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return hash;
    }

    private static void AppendField(IncrementalHash hash, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }

    private static Digest Finish(IncrementalHash hash) => Digest.FromSha256Hash(hash.GetHashAndReset());
}
