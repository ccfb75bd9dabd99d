namespace Builder.Core.Export;

/// <summary>
/// Writes a file next to its destination (<c>dest.tmp</c>), fsyncs it and renames it into place,
/// so a failed or cancelled export never leaves a half-written archive under the real name.
/// </summary>
internal static class AtomicFile
{
    public static async Task WriteAsync(string destination, Func<Stream, CancellationToken, Task> write, CancellationToken ct)
    {
        var full = Path.GetFullPath(destination);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        try
        {
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(file, ct).ConfigureAwait(false);
                await file.FlushAsync(ct).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
