using Builder.Core.Ops;

namespace Builder.Core.Tests.Ops;

public sealed class CacheMountsTests : IDisposable
{
    private readonly TempStateRoot _state = new();
    private readonly CacheMounts _caches;

    public CacheMountsTests() => _caches = new CacheMounts(_state.Root.CacheMountsDir);

    public void Dispose() => _state.Dispose();

    private static Task Nothing(string dir, CancellationToken ct) => Task.CompletedTask;

    [Theory]
    [InlineData("../../escape")]
    [InlineData("/../../../../etc")]
    [InlineData("..")]
    [InlineData("a/../../b")]
    public async Task An_id_never_names_a_place_outside_the_cache_root(string id)
    {
        using var lease = await _caches.AcquireAsync(id, "", "shared", Nothing, CancellationToken.None);
        var root = Path.GetFullPath(_state.Root.CacheMountsDir) + "/";
        Assert.StartsWith(root, Path.GetFullPath(lease.Path));
        Assert.True(Directory.Exists(lease.Path));
        Assert.DoesNotContain("..", Path.GetRelativePath(root, lease.Path));
    }

    [Fact]
    public async Task Shared_users_get_one_directory_initialised_once()
    {
        var initialised = 0;
        Task Init(string dir, CancellationToken ct)
        {
            Interlocked.Increment(ref initialised);
            File.WriteAllText(Path.Combine(dir, "seed"), "x");
            return Task.CompletedTask;
        }
        using var a = await _caches.AcquireAsync("go", "", "shared", Init, CancellationToken.None);
        using var b = await _caches.AcquireAsync("go", "", "shared", Init, CancellationToken.None);
        Assert.Equal(a.Path, b.Path);
        Assert.Equal(1, initialised);
        Assert.True(File.Exists(Path.Combine(a.Path, "seed")));
    }

    [Fact]
    public async Task A_locked_cache_waits_for_its_holder()
    {
        var first = await _caches.AcquireAsync("apt", "", "locked", Nothing, CancellationToken.None);
        var second = _caches.AcquireAsync("apt", "", "locked", Nothing, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var lease = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(first.Path, lease.Path);
    }

    [Fact]
    public async Task A_locked_user_waits_for_shared_users_too_and_a_wait_can_be_cancelled()
    {
        using var shared = await _caches.AcquireAsync("npm", "", "shared", Nothing, CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _caches.AcquireAsync("npm", "", "locked", Nothing, cancel.Token));
    }

    [Fact]
    public async Task Private_users_get_a_directory_nobody_else_holds_and_reuse_it_later()
    {
        var a = await _caches.AcquireAsync("pip", "", "private", Nothing, CancellationToken.None);
        var b = await _caches.AcquireAsync("pip", "", "private", Nothing, CancellationToken.None);
        Assert.NotEqual(a.Path, b.Path);
        var path = a.Path;
        a.Dispose();
        using var c = await _caches.AcquireAsync("pip", "", "private", Nothing, CancellationToken.None);
        Assert.Equal(path, c.Path);
        b.Dispose();
    }

    [Fact]
    public async Task The_seed_separates_caches_of_one_id()
    {
        using var plain = await _caches.AcquireAsync("x", "", "shared", Nothing, CancellationToken.None);
        using var seeded = await _caches.AcquireAsync("x", "owner=1000:1000", "shared", Nothing, CancellationToken.None);
        Assert.NotEqual(plain.Path, seeded.Path);
    }
}
