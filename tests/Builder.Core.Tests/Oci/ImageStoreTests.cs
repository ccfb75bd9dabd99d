using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Oci;

public sealed class ImageStoreTests : IDisposable
{
    private readonly TempStateRoot _state = new();
    private readonly ImageStore _store;

    public ImageStoreTests() => _store = new ImageStore(_state.Root);

    public void Dispose() => _state.Dispose();

    private static Descriptor Manifest(string seed) => new(MediaTypes.OciManifest, Digest.Sha256(seed), seed.Length);

    [Fact]
    public async Task Put_get_list_delete()
    {
        await _store.PutAsync("hello", Manifest("a"), CancellationToken.None);
        await _store.PutAsync("foo/bar:1", Manifest("b"), CancellationToken.None);

        var hello = await _store.GetAsync("docker.io/library/hello:latest", CancellationToken.None);
        Assert.NotNull(hello);
        Assert.Equal("docker.io/library/hello:latest", hello.Name);
        Assert.Equal(Manifest("a"), hello.Target);

        var names = (await _store.ListAsync(CancellationToken.None)).Select(r => r.Name);
        Assert.Equal(["docker.io/foo/bar:1", "docker.io/library/hello:latest"], names);

        Assert.True(await _store.DeleteAsync("hello:latest", CancellationToken.None));
        Assert.False(await _store.DeleteAsync("hello", CancellationToken.None));
        Assert.Null(await _store.GetAsync("hello", CancellationToken.None));
    }

    [Fact]
    public async Task Invalid_names_are_rejected() =>
        await Assert.ThrowsAsync<FormatException>(() => _store.PutAsync("Not/Valid", Manifest("a"), CancellationToken.None));

    [Fact]
    public async Task Retagging_moves_the_tag_atomically()
    {
        Descriptor[] targets = [Manifest("old"), Manifest("new-target")];
        await _store.PutAsync("app", targets[0], CancellationToken.None);
        using var stop = new CancellationTokenSource();

        // Readers on their own connections must only ever see one of the two complete targets.
        var reads = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var record = await _store.GetAsync("app", CancellationToken.None);
                Assert.NotNull(record);
                Assert.Contains(record.Target, targets);
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        // Keep moving the tag until the readers have had plenty of chances to catch it mid-move.
        for (var i = 0; i < 50 || Volatile.Read(ref reads) < 100; i++)
            await _store.PutAsync("app", targets[(i + 1) % 2], CancellationToken.None);
        await _store.PutAsync("app", targets[0], CancellationToken.None);
        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Equal(targets[0], (await _store.GetAsync("app", CancellationToken.None))!.Target);
        Assert.Single(await _store.ListAsync(CancellationToken.None));
    }
}
