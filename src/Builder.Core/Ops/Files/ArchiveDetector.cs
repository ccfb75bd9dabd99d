namespace Builder.Core.Ops.Files;

/// <summary>Recognises the archives ADD extracts, by their first bytes, never by their names.</summary>
internal static class ArchiveDetector
{
    public static bool IsArchive(string path)
    {
        Span<byte> head = stackalloc byte[512];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head[..read];
        return bytes.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b])             // gzip
            || bytes.StartsWith((ReadOnlySpan<byte>)[0x42, 0x5a, 0x68])       // bzip2
            || bytes.StartsWith((ReadOnlySpan<byte>)[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) // xz
            || bytes.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd]) // zstd
            || (read >= 262 && bytes[257..262].SequenceEqual("ustar"u8));   // tar
    }
}
