using System.Formats.Tar;
using Builder.Core.Snapshots;

namespace Builder.Core.Tests.Snapshots;

/// <summary>A 300 MB file goes through apply and diff without managed memory growing with it.</summary>
public sealed class StreamingTests : IDisposable
{
    private const long FileSize = 300L * 1024 * 1024;
    private const long AllowedAllocation = 16L * 1024 * 1024;

    private readonly string _work = Directory.CreateTempSubdirectory("streaming-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task BigFileIsStreamedThroughApplyAndDiff()
    {
        var layerPath = Path.Join(_work, "layer.tar");
        WriteLayerWithSparseishFile(layerPath);
        var target = Path.Join(_work, "target");
        Directory.CreateDirectory(target);

        var applyAllocated = await AllocatedDuring(async () =>
        {
            await using var layer = File.OpenRead(layerPath);
            await new LayerApplier(target).ApplyAsync(layer, CancellationToken.None);
        });
        var appliedFile = new FileInfo(Path.Join(target, "big.bin"));
        Assert.Equal(FileSize, appliedFile.Length);

        var counter = new CountingStream();
        var diffAllocated = await AllocatedDuring(() => LayerDiffer.WriteDirectoryAsync(target, counter, null, CancellationToken.None));

        Assert.True(counter.Length > FileSize);
        Assert.True(applyAllocated < AllowedAllocation, $"apply allocated {applyAllocated} bytes");
        Assert.True(diffAllocated < AllowedAllocation, $"diff allocated {diffAllocated} bytes");
    }

    // Mostly zeros with a little data every 50 MB, like a disk image or a sparse database file.
    private static void WriteLayerWithSparseishFile(string layerPath)
    {
        var source = Path.Join(Path.GetDirectoryName(layerPath), "big.src");
        using (var file = File.Create(source))
        {
            file.SetLength(FileSize);
            for (long offset = 0; offset < FileSize; offset += 50L * 1024 * 1024)
            {
                file.Position = offset;
                file.Write(Enumerable.Repeat((byte)0xAB, 4096).ToArray());
            }
        }
        using var output = File.Create(layerPath);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        writer.WriteEntry(source, "big.bin");
        File.Delete(source);
    }

    private static async Task<long> AllocatedDuring(Func<Task> action)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await action();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private sealed class CountingStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Position;
        public override long Position { get; set; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Position += count;
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Position += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
