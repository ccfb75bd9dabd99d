using System.Security.Cryptography;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Oci;

public sealed class ContentStoreTests : IDisposable
{
    private readonly TempStateRoot _state = new();
    private readonly ContentStore _store;

    public ContentStoreTests() => _store = new ContentStore(_state.Root);

    public void Dispose() => _state.Dispose();

    [Fact]
    public async Task Put_stores_the_blob_under_its_sha256()
    {
        var data = RandomNumberGenerator.GetBytes(100_000);

        var descriptor = await _store.PutAsync(new MemoryStream(data), MediaTypes.OciLayer, null, CancellationToken.None);

        Assert.Equal(Digest.Sha256(data), descriptor.Digest);
        Assert.Equal(data.Length, descriptor.Size);
        Assert.Equal(data, await _store.ReadAllBytesAsync(descriptor.Digest, CancellationToken.None));
        Assert.Equal([descriptor.Digest], _store.List());
        Assert.True(File.Exists(Path.Combine(_state.Root.ContentDir, "blobs", "sha256", descriptor.Digest.Hex)));
    }

    [Fact]
    public async Task Put_with_the_right_expected_digest_succeeds()
    {
        var data = "hello"u8.ToArray();
        var descriptor = await _store.PutAsync(new MemoryStream(data), MediaTypes.OciConfig, Digest.Sha256(data), CancellationToken.None);
        Assert.True(_store.Exists(descriptor.Digest));
    }

    [Fact]
    public async Task Put_with_a_wrong_expected_digest_stores_nothing_and_leaves_no_temp_file()
    {
        var wrong = Digest.Sha256("something else");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            _store.PutAsync(new MemoryStream("hello"u8.ToArray()), MediaTypes.OciConfig, wrong, CancellationToken.None));

        Assert.Contains("digest mismatch", error.Message);
        Assert.False(_store.Exists(wrong));
        Assert.False(_store.Exists(Digest.Sha256("hello")));
        Assert.Empty(_store.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_state.Root.TempDir));
    }

    [Fact]
    public async Task Abandoned_writer_leaves_nothing_behind()
    {
        await using (var writer = _store.OpenWriter())
            await writer.Stream.WriteAsync(new byte[1000]);

        Assert.Empty(_store.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_state.Root.TempDir));
    }

    [Fact]
    public async Task Concurrent_writers_of_the_same_blob_all_succeed()
    {
        var data = RandomNumberGenerator.GetBytes(4 << 20);

        var descriptors = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await using var writer = _store.OpenWriter();
            for (var offset = 0; offset < data.Length; offset += 64 * 1024)
                await writer.Stream.WriteAsync(data.AsMemory(offset, 64 * 1024));
            return await writer.CommitAsync(MediaTypes.OciLayer, Digest.Sha256(data), CancellationToken.None);
        })));

        Assert.All(descriptors, d => Assert.Equal(Digest.Sha256(data), d.Digest));
        Assert.Equal(data, await _store.ReadAllBytesAsync(Digest.Sha256(data), CancellationToken.None));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_state.Root.TempDir));
    }

    [Fact]
    public async Task Readers_never_see_a_partial_blob()
    {
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        var digest = Digest.Sha256(data);
        using var done = new CancellationTokenSource();

        // A reader polls the blob while it is being written and checks every sighting is whole.
        var sightings = 0;
        var reader = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                if (!_store.Exists(digest)) { await Task.Yield(); continue; }
                await using var stream = _store.OpenRead(digest);
                Assert.Equal(digest, await Digest.Sha256Async(stream, CancellationToken.None));
                sightings++;
            }
        });

        await using (var writer = _store.OpenWriter())
        {
            for (var offset = 0; offset < data.Length; offset += 256 * 1024)
            {
                await writer.Stream.WriteAsync(data.AsMemory(offset, 256 * 1024));
                Assert.False(_store.Exists(digest));
            }
            await writer.CommitAsync(MediaTypes.OciLayer, digest, CancellationToken.None);
        }
        await Task.Delay(50);
        done.Cancel();
        await reader;

        Assert.True(sightings > 0);
    }

    [Fact]
    public void Stale_temp_files_are_removed_at_start_up()
    {
        File.WriteAllText(Path.Combine(_state.Root.TempDir, ContentStore.TempFilePrefix + "crashed"), "half a blob");
        File.WriteAllText(Path.Combine(_state.Root.TempDir, "someone-elses-file"), "kept");

        Assert.Equal(1, _store.RemoveStaleTempFiles());
        Assert.Equal(["someone-elses-file"], Directory.EnumerateFiles(_state.Root.TempDir).Select(Path.GetFileName));
    }
}
