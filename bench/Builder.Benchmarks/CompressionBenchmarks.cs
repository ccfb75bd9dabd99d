using System.Formats.Tar;
using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using ICSharpCode.SharpZipLib.GZip;
using ZstdSharp;

namespace Builder.Benchmarks;

/// <summary>
/// Which gzip to use for layers: SharpZipLib's GZipOutputStream or the BCL's GZipStream (zlib-ng),
/// both at level 6 (gzip's default, what BuildKit uses), on ~100 MB of a realistic layer: a tar
/// of this machine's /usr (ELF binaries, shared libraries, text, already-compressed files).
/// zstd level 3 is measured alongside for reference. Results are in Export/LayerCompressor.cs.
/// Run: dotnet run -c Release --project bench/Builder.Benchmarks -- --filter '*Compression*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class CompressionBenchmarks
{
    private const long TargetSize = 100L << 20;
    private const int Level = 6;
    private byte[] _layer = [];

    [GlobalSetup]
    public void BuildLayer()
    {
        // The benchmark input itself is allowed in memory: it is what is being compressed, repeatedly.
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var file in FilesUnder("/usr"))
            {
                if (tar.Length >= TargetSize) break;
                writer.WriteEntry(file, file.TrimStart('/'));
            }
        }
        _layer = tar.ToArray();
        Console.WriteLine($"// layer: {_layer.Length / (1 << 20)} MiB; gzip(BCL) {Ratio(SystemGzip)}, gzip(SharpZipLib) {Ratio(SharpZipLibGzip)}, zstd {Ratio(Zstd)}");
    }

    [Benchmark(Baseline = true)]
    public long SystemGzip() => Compress(output => new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = Level }, leaveOpen: true));

    [Benchmark]
    public long SharpZipLibGzip() => Compress(output =>
    {
        var gzip = new GZipOutputStream(output) { IsStreamOwner = false };
        gzip.SetLevel(Level);
        return gzip;
    });

    [Benchmark]
    public long Zstd() => Compress(output => new CompressionStream(output, level: 3, leaveOpen: true));

    private long Compress(Func<Stream, Stream> compressor)
    {
        var output = new CountingSink();
        using (var compressing = compressor(output))
            compressing.Write(_layer);
        return output.Length;
    }

    private string Ratio(Func<long> compress) => $"{100.0 * compress() / _layer.Length:F1}%";

    private static IEnumerable<string> FilesUnder(string root) =>
        Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Order(StringComparer.Ordinal);

    /// <summary>Counts bytes and drops them, so the benchmark measures compression and not a disk.</summary>
    private sealed class CountingSink : Stream
    {
        private long _length;
        public override long Length => _length;
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
