using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>ADD: local archives (by content), URLs (downloaded, never extracted, checksums), the safety rules.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class AddTests(BusyboxImage busybox, SharedStateRoot state) : DockerfileSuite(busybox, state), IClassFixture<SharedStateRoot>
{
    private static byte[] Tar(params (string Name, string? Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                if (content is null)
                {
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)Convert.ToInt32("755", 8) });
                    continue;
                }
                if (content.StartsWith("->", StringComparison.Ordinal))
                {
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = content[2..] });
                    continue;
                }
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                    Mode = (UnixFileMode)Convert.ToInt32("640", 8),
                    Uid = 1000, Gid = 1000,
                    ModificationTime = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero),
                };
                writer.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    private static byte[] Compress(byte[] data, Func<Stream, Stream> compressor)
    {
        using var buffer = new MemoryStream();
        using (var stream = compressor(buffer)) stream.Write(data);
        return buffer.ToArray();
    }

    private void WriteBytes(string name, byte[] data) => File.WriteAllBytes(Context.Combine(name), data);

    private static readonly byte[] Sample = Tar(("app", null), ("app/hello.txt", "hello"), ("app/sub/deep.txt", "deep"));

    [Fact]
    public async Task A_plain_tar_is_extracted_with_its_owners_and_modes()
    {
        WriteBytes("files.tar", Sample);
        var image = await BuildAsync("FROM scratch\nADD files.tar /opt/\n");
        AssertFile(image, "opt/app/hello.txt", "hello");
        AssertFile(image, "opt/app/sub/deep.txt", "deep");
        Assert.Equal(Convert.ToInt32("640", 8), Entry(image, "opt/app/hello.txt").Mode);
        Assert.Equal(1000, Entry(image, "opt/app/hello.txt").Uid);
        AssertAbsent(image, "opt/files.tar");
    }

    [Fact]
    public async Task A_gzip_tar_is_recognised_by_content_not_name()
    {
        WriteBytes("archive.bin", Compress(Sample, s => new GZipStream(s, CompressionLevel.Fastest)));
        var image = await BuildAsync("FROM scratch\nADD archive.bin /x\n");
        AssertFile(image, "x/app/hello.txt", "hello");
    }

    [Fact]
    public async Task A_bzip2_tar_is_extracted()
    {
        WriteBytes("files.tar.bz2", Compress(Sample, s => new ICSharpCode.SharpZipLib.BZip2.BZip2OutputStream(s)));
        var image = await BuildAsync("FROM scratch\nADD files.tar.bz2 /\n");
        AssertFile(image, "app/sub/deep.txt", "deep");
    }

    [Fact]
    public async Task A_zstd_tar_is_extracted()
    {
        WriteBytes("files.tar.zst", Compress(Sample, s => new ZstdSharp.CompressionStream(s)));
        var image = await BuildAsync("FROM scratch\nADD files.tar.zst /z/\n");
        AssertFile(image, "z/app/hello.txt", "hello");
    }

    [Fact]
    public async Task An_xz_tar_is_extracted()
    {
        WriteBytes("files.tar", Sample);
        using (var xz = System.Diagnostics.Process.Start("xz", ["-z", "-k", Context.Combine("files.tar")])!) await xz.WaitForExitAsync();
        File.Delete(Context.Combine("files.tar"));
        var image = await BuildAsync("FROM scratch\nADD files.tar.xz /xz/\n");
        AssertFile(image, "xz/app/sub/deep.txt", "deep");
    }

    [Fact]
    public async Task A_corrupt_archive_is_copied_as_a_file()
    {
        byte[] notReally = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3, 4];
        WriteBytes("broken.tar.xz", notReally);
        var image = await BuildAsync("FROM scratch\nADD broken.tar.xz /b/\n");
        Assert.Equal(notReally, Entry(image, "b/broken.tar.xz").Content);
    }

    [Fact]
    public async Task A_compressed_file_that_is_not_a_tar_is_copied_as_is()
    {
        var gz = Compress("just text"u8.ToArray(), s => new GZipStream(s, CompressionLevel.Fastest));
        WriteBytes("note.gz", gz);
        var image = await BuildAsync("FROM scratch\nADD note.gz /note.gz\n");
        Assert.Equal(gz, Entry(image, "note.gz").Content);
    }

    [Fact]
    public async Task Unpack_false_keeps_the_archive()
    {
        WriteBytes("files.tar", Sample);
        var image = await BuildAsync("FROM scratch\nADD --unpack=false files.tar /keep/\n");
        Assert.Equal(Sample, Entry(image, "keep/files.tar").Content);
        AssertAbsent(image, "keep/app");
    }

    [Fact]
    public async Task A_tar_entry_climbing_out_with_dotdot_is_refused()
    {
        WriteBytes("evil.tar", Tar(("../../escaped.txt", "gotcha")));
        var result = await BuildFailsAsync("FROM scratch\nADD evil.tar /dest/\n");
        Assert.Contains("outside the destination", result.Stderr);
        Assert.False(File.Exists("/escaped.txt"));
    }

    [Fact]
    public async Task A_tar_symlink_cannot_carry_later_entries_out_of_the_root()
    {
        var outside = $"/var/tmp/builder-tarslip-{Guid.NewGuid():N}";
        WriteBytes("links.tar", Tar(("link", "->" + outside), ("link/planted.txt", "planted")));
        var image = await BuildAsync("FROM scratch\nADD links.tar /\n");
        Assert.False(Directory.Exists(outside), "ADD followed a symlink out of the stage root");
        AssertFile(image, $"{outside.TrimStart('/')}/planted.txt", "planted");
        Assert.Equal(TarEntryType.SymbolicLink, Entry(image, "link").Type);
    }

    [Fact]
    public async Task Add_chown_applies_to_local_files()
    {
        Write("plain.txt", "p");
        var image = await BuildAsync("FROM busybox\nADD --chown=app:staff plain.txt /plain.txt\n");
        Assert.Equal((1000, 50), (Entry(image, "plain.txt").Uid, Entry(image, "plain.txt").Gid));
    }

    [Fact]
    public async Task Add_exclude_leaves_out_matching_files()
    {
        Write("dir/a.mp3", "a");
        Write("dir/b.txt", "b");
        var image = await BuildAsync("FROM scratch\nADD --exclude=*.mp3 dir /out/\n");
        AssertFile(image, "out/b.txt", "b");
        AssertAbsent(image, "out/a.mp3");
    }

    // ---- URLs --------------------------------------------------------------------------------

    private sealed class FileServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Dictionary<string, byte[]> _files = new();

        public FileServer()
        {
            for (var attempt = 0; ; attempt++)
            {
                Port = Random.Shared.Next(20000, 60000);
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
                try { _listener.Start(); break; }
                catch (HttpListenerException) when (attempt < 20) { }
            }
            _ = Task.Run(ServeAsync);
        }

        public int Port { get; }

        public int Requests;

        public string Add(string path, byte[] content)
        {
            lock (_files) _files[path] = content;
            return $"http://127.0.0.1:{Port}{path}";
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                Interlocked.Increment(ref Requests);
                byte[]? body;
                lock (_files) _files.TryGetValue(context.Request.Url!.AbsolutePath, out body);
                if (body is null) { context.Response.StatusCode = 404; context.Response.Close(); continue; }
                context.Response.Headers["Last-Modified"] = "Wed, 21 Oct 2015 07:28:00 GMT";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    [Fact]
    public async Task A_url_is_downloaded_as_a_0600_file_with_last_modified_as_mtime()
    {
        using var server = new FileServer();
        var url = server.Add("/files/tool.sh", "echo downloaded"u8.ToArray());
        var image = await BuildAsync($"FROM scratch\nADD {url} /bin/tool\nADD {url} /into/\n");
        AssertFile(image, "bin/tool", "echo downloaded");
        Assert.Equal(Convert.ToInt32("600", 8), Entry(image, "bin/tool").Mode);
        Assert.Equal(new DateTimeOffset(2015, 10, 21, 7, 28, 0, TimeSpan.Zero), Entry(image, "bin/tool").ModificationTime);
        AssertFile(image, "into/tool.sh", "echo downloaded");
    }

    [Fact]
    public async Task A_downloaded_archive_is_never_extracted()
    {
        using var server = new FileServer();
        var gz = Compress(Sample, s => new GZipStream(s, CompressionLevel.Fastest));
        var url = server.Add("/sample.tar.gz", gz);
        var image = await BuildAsync($"FROM scratch\nADD {url} /dl/\n");
        Assert.Equal(gz, Entry(image, "dl/sample.tar.gz").Content);
        AssertAbsent(image, "dl/app");
    }

    [Fact]
    public async Task A_matching_checksum_is_accepted_and_keys_the_cache_without_network()
    {
        using var server = new FileServer();
        var content = "checked content"u8.ToArray();
        var url = server.Add("/checked.txt", content);
        var sum = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var image = await BuildAsync($"FROM scratch\nADD --checksum={sum} {url} /checked.txt\n");
        AssertFile(image, "checked.txt", "checked content");
        var requests = server.Requests;
        await BuildAsync($"FROM scratch\nADD --checksum={sum} {url} /checked.txt\n");
        Assert.Equal(requests, server.Requests);
    }

    [Fact]
    public async Task A_wrong_checksum_fails_the_build()
    {
        using var server = new FileServer();
        var url = server.Add("/tampered.txt", "tampered"u8.ToArray());
        var wrong = "sha256:" + new string('0', 64);
        var result = await BuildFailsAsync($"FROM scratch\nADD --checksum={wrong} {url} /t\n");
        Assert.Contains("digest mismatch", result.Stderr);
        Assert.Contains("Dockerfile:2", result.Stderr);
    }

    [Fact]
    public async Task A_missing_url_fails_with_the_status()
    {
        using var server = new FileServer();
        var result = await BuildFailsAsync($"FROM scratch\nADD http://127.0.0.1:{server.Port}/nope.txt /n\n");
        Assert.Contains("404", result.Stderr);
    }

    [Fact]
    public async Task Copy_refuses_urls_and_checksums_need_urls()
    {
        Write("local.txt", "l");
        var result = await BuildFailsAsync("FROM scratch\nCOPY http://127.0.0.1:1/x /x\n");
        Assert.Contains("source can't be a URL for COPY", result.Stderr);
        result = await BuildFailsAsync($"FROM scratch\nADD --checksum=sha256:{new string('a', 64)} local.txt /l\n");
        Assert.Contains("checksum requires HTTP(S) or Git sources", result.Stderr);
    }
}
