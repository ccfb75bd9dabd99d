using System.Buffers;
using System.Formats.Tar;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Builder.Core.Snapshots;

/// <summary>One tar entry as the layer differ describes it; every field that reaches the header is here.</summary>
internal sealed record LayerTarEntry(
    string Name,
    TarEntryType Type,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    long ModifiedSeconds,
    string LinkName = "",
    uint DeviceMajor = 0,
    uint DeviceMinor = 0,
    IReadOnlyList<(string Name, byte[] Value)>? Xattrs = null);

/// <summary>
/// Writes USTAR headers, with a PAX extended header in front when a field does not fit (long or
/// non-ASCII names, big ids or sizes) or xattrs must be carried. Written by hand rather than with
/// System.Formats.Tar's TarWriter because that one names PAX headers after the process id (so the
/// same tree would give different bytes in each process) and stores PAX values as UTF-8 text
/// (xattrs such as security.capability are binary).
/// </summary>
internal sealed class LayerTarWriter(Stream output)
{
    private const int BlockSize = 512;
    private const long MaxOctal7 = 0x1FFFFF;      // 07777777: the uid/gid fields
    private const long MaxOctal11 = 0x1FFFFFFFF;  // 077777777777: the size/mtime fields
    private const int CopyChunkSize = 128 * 1024;

    private readonly byte[] _header = new byte[BlockSize];

    /// <summary>Writes the entry's header and, for a regular file, exactly <see cref="LayerTarEntry.Size"/> bytes of <paramref name="content"/>.</summary>
    public async Task WriteEntryAsync(LayerTarEntry entry, SafeFileHandle? content, CancellationToken ct)
    {
        var paxRecords = PaxRecordsFor(entry);
        if (paxRecords.Length > 0)
        {
            await WriteHeaderAsync(PaxHeaderName(entry.Name), TarEntryType.ExtendedAttributes, mode: 0, uid: 0, gid: 0,
                paxRecords.Length, modified: 0, linkName: "", devMajor: 0, devMinor: 0, ct).ConfigureAwait(false);
            await output.WriteAsync(paxRecords, ct).ConfigureAwait(false);
            await WritePaddingAsync(paxRecords.Length, ct).ConfigureAwait(false);
        }

        await WriteHeaderAsync(entry.Name, entry.Type, entry.Mode, entry.Uid, entry.Gid, entry.Size, entry.ModifiedSeconds,
            entry.LinkName, entry.DeviceMajor, entry.DeviceMinor, ct).ConfigureAwait(false);
        if (content is not null && entry.Size > 0)
        {
            await CopyFileAsync(content, entry.Size, ct).ConfigureAwait(false);
            await WritePaddingAsync(entry.Size, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The end-of-archive marker: two zero blocks.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        await output.WriteAsync(new byte[2 * BlockSize], ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    private static byte[] PaxRecordsFor(LayerTarEntry entry)
    {
        var records = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (!FitsUstarString(entry.Name)) records["path"] = Encoding.UTF8.GetBytes(entry.Name);
        if (!FitsUstarString(entry.LinkName)) records["linkpath"] = Encoding.UTF8.GetBytes(entry.LinkName);
        if (entry.Uid > MaxOctal7) records["uid"] = DecimalBytes(entry.Uid);
        if (entry.Gid > MaxOctal7) records["gid"] = DecimalBytes(entry.Gid);
        if (entry.Size > MaxOctal11) records["size"] = DecimalBytes(entry.Size);
        if (entry.ModifiedSeconds is < 0 or > MaxOctal11) records["mtime"] = DecimalBytes(entry.ModifiedSeconds);
        foreach (var (name, value) in entry.Xattrs ?? [])
            records["SCHILY.xattr." + name] = value;
        if (records.Count == 0) return [];

        using var buffer = new MemoryStream();
        foreach (var (key, value) in records)
            WritePaxRecord(buffer, key, value);
        return buffer.ToArray();
    }

    /// <summary>"&lt;length&gt; &lt;key&gt;=&lt;value&gt;\n", where length counts the whole record, its own digits included.</summary>
    private static void WritePaxRecord(Stream buffer, string key, byte[] value)
    {
        var body = Encoding.UTF8.GetByteCount(key) + value.Length + 3; // ' ', '=', '\n'
        var length = body + 1;
        while (length != body + length.ToString().Length)
            length = body + length.ToString().Length;
        buffer.Write(Encoding.ASCII.GetBytes($"{length} {key}="));
        buffer.Write(value);
        buffer.WriteByte((byte)'\n');
    }

    // Like Go's archive/tar: "dir/PaxHeaders.0/base". A fixed name, never the process id, so output is reproducible.
    private static string PaxHeaderName(string name)
    {
        var trimmed = name.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var paxName = slash < 0 ? "PaxHeaders.0/" + trimmed : trimmed[..(slash + 1)] + "PaxHeaders.0/" + trimmed[(slash + 1)..];
        return AsciiTruncated(paxName);
    }

    private async Task WriteHeaderAsync(string name, TarEntryType type, uint mode, uint uid, uint gid, long size,
        long modified, string linkName, uint devMajor, uint devMinor, CancellationToken ct)
    {
        var h = _header.AsSpan();
        h.Clear();
        WriteString(h[0..100], AsciiTruncated(name));
        WriteOctal(h[100..108], mode & 0xFFF);
        WriteOctal(h[108..116], uid > MaxOctal7 ? 0 : uid);
        WriteOctal(h[116..124], gid > MaxOctal7 ? 0 : gid);
        WriteOctal(h[124..136], size > MaxOctal11 ? 0 : size);
        WriteOctal(h[136..148], modified is < 0 or > MaxOctal11 ? 0 : modified);
        h[156] = (byte)type;
        WriteString(h[157..257], AsciiTruncated(linkName));
        "ustar\0"u8.CopyTo(h[257..263]);
        "00"u8.CopyTo(h[263..265]);
        // uname and gname (265..329) stay empty: ids are what a layer carries, not host names.
        WriteOctal(h[329..337], devMajor);
        WriteOctal(h[337..345], devMinor);

        // The checksum is computed with its own field read as spaces.
        h[148..156].Fill((byte)' ');
        var checksum = 0;
        foreach (var b in h) checksum += b;
        WriteOctal(h[148..155], checksum);
        h[155] = (byte)' ';

        await output.WriteAsync(_header, ct).ConfigureAwait(false);
    }

    private async Task CopyFileAsync(SafeFileHandle content, long size, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunkSize);
        try
        {
            long offset = 0;
            while (offset < size)
            {
                var wanted = (int)Math.Min(CopyChunkSize, size - offset);
                var read = await RandomAccess.ReadAsync(content, buffer.AsMemory(0, wanted), offset, ct).ConfigureAwait(false);
                if (read == 0) throw new IOException($"file shrank while being written to the layer ({offset} of {size} bytes)");
                await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task WritePaddingAsync(long size, CancellationToken ct)
    {
        var padding = (int)((BlockSize - size % BlockSize) % BlockSize);
        if (padding > 0) await output.WriteAsync(new byte[padding], ct).ConfigureAwait(false);
    }

    private static bool FitsUstarString(string value) => value.Length <= 100 && Ascii.IsValid(value) && !value.Contains('\0');

    private static string AsciiTruncated(string value)
    {
        var ascii = string.Create(value.Length, value, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = source[i] is > '\0' and < (char)0x80 ? source[i] : '_';
        });
        return ascii.Length <= 100 ? ascii : ascii[..100];
    }

    private static void WriteString(Span<byte> field, string ascii) => Encoding.ASCII.GetBytes(ascii, field);

    // Zero-padded octal digits filling all but the last byte, which stays NUL.
    private static void WriteOctal(Span<byte> field, long value)
    {
        var digits = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(digits, field);
    }

    private static byte[] DecimalBytes(long value) => Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
