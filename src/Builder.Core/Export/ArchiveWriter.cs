using System.Formats.Tar;

namespace Builder.Core.Export;

/// <summary>
/// A tar of generated files (image layouts, docker archives) with fixed headers: owner 0:0, no
/// user names, modes 0644/0755 and one timestamp, so the same content gives the same archive.
/// Callers add entries in sorted order. GNU format, for names longer than 100 bytes without PAX
/// headers (whose names .NET derives from the process id).
/// </summary>
internal sealed class ArchiveWriter(Stream output, DateTimeOffset timestamp) : IAsyncDisposable
{
    private readonly TarWriter _tar = new(output, TarEntryFormat.Gnu, leaveOpen: true);

    public Task AddDirectoryAsync(string name, CancellationToken ct) =>
        _tar.WriteEntryAsync(NewEntry(TarEntryType.Directory, name.TrimEnd('/') + "/", "755"), ct);

    public async Task AddFileAsync(string name, Stream content, CancellationToken ct)
    {
        var entry = NewEntry(TarEntryType.RegularFile, name, "644");
        entry.DataStream = content;
        await _tar.WriteEntryAsync(entry, ct).ConfigureAwait(false);
    }

    public async Task AddFileAsync(string name, byte[] content, CancellationToken ct)
    {
        using var stream = new MemoryStream(content, writable: false);
        await AddFileAsync(name, stream, ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _tar.DisposeAsync();

    private GnuTarEntry NewEntry(TarEntryType type, string name, string octalMode) => new(type, name)
    {
        Mode = (UnixFileMode)Convert.ToInt32(octalMode, 8),
        Uid = 0,
        Gid = 0,
        UserName = "",
        GroupName = "",
        ModificationTime = timestamp,
    };
}
