using Builder.Core.Context;
using Builder.Core.State;

namespace Builder.Core.Tests.Context;

public sealed class StatCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ContextFiles _files;
    private readonly StateRoot _state;

    public StatCacheTests()
    {
        _files = new ContextFiles(_dir.Combine("context"));
        _files.Dir("");
        _state = new StateRoot(_dir.Combine("state"));
        _state.EnsureCreated();
    }

    public void Dispose()
    {
        _files.Dispose();
        _dir.Dispose();
    }

    /// <summary>
    /// A checksummer as the next build would make one: a new stat cache read back from the
    /// database. Its clock runs an hour ahead so files just written count as settled, not
    /// racily clean.
    /// </summary>
    private ContextChecksummer NextBuild(TimeProvider? time = null) =>
        new(_files.Root, IncludeEverything.Instance, new ContextStatCache(_state, _files.Root), time ?? new ClockAhead(TimeSpan.FromHours(1)));

    [Fact]
    public async Task A_worker_shares_one_stat_cache_per_root_across_builds_and_still_sees_a_change()
    {
        _files.File("a", "one").File("b", "bee");
        var caches = new ContextStatCaches(_state);
        ContextChecksummer Build() => new(_files.Root, IncludeEverything.Instance, caches.For(_files.Root), new ClockAhead(TimeSpan.FromHours(1)));
        Assert.Same(caches.For(_files.Root), caches.For(Path.Combine(_files.Root, "sub", "..")));

        var first = Build();
        var before = await first.RootChecksumAsync(CancellationToken.None);
        var second = Build();
        Assert.Equal(before, await second.RootChecksumAsync(CancellationToken.None));
        Assert.Equal(0, second.HashedBytes);

        _files.File("a", "two!");
        var third = Build();
        Assert.NotEqual(before, await third.RootChecksumAsync(CancellationToken.None));
        Assert.Equal(4, third.HashedBytes);
    }

    [Fact]
    public void The_least_recently_used_root_is_dropped_beyond_capacity()
    {
        var caches = new ContextStatCaches(_state, capacity: 1);
        var first = caches.For("/ctx/one");
        caches.For("/ctx/two");
        Assert.NotSame(first, caches.For("/ctx/one"));
    }

    [Fact]
    public async Task An_unchanged_file_is_not_read_again_by_the_next_build()
    {
        _files.File("big", new string('x', 100_000)).File("dir/small", "s");
        var first = NextBuild();
        var digest = await first.RootChecksumAsync(CancellationToken.None);
        Assert.Equal(100_001, first.HashedBytes);

        var second = NextBuild();
        Assert.Equal(digest, await second.RootChecksumAsync(CancellationToken.None));
        Assert.Equal(0, second.HashedBytes);
    }

    [Fact]
    public async Task A_touched_file_is_read_again_and_checksums_the_same()
    {
        _files.File("big", new string('x', 100_000)).File("other", "o");
        var digest = await NextBuild().RootChecksumAsync(CancellationToken.None);

        _files.Touch("big", new DateTime(2010, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var afterTouch = NextBuild();

        Assert.Equal(digest, await afterTouch.RootChecksumAsync(CancellationToken.None));
        Assert.Equal(100_000, afterTouch.HashedBytes);
    }

    [Fact]
    public async Task Changed_content_of_the_same_size_gives_a_new_checksum()
    {
        _files.File("f", "aaaa");
        var cachedStatus = FileStatus.Lstat(_files.PathOf("f"))!;
        var digest = await NextBuild().ChecksumAsync("f", false, CancellationToken.None);

        // A later build sees a later ctime; rewrite until the coarse clock has ticked so this one does too.
        do _files.File("f", "bbbb");
        while (FileStatus.Lstat(_files.PathOf("f"))!.CtimeNs == cachedStatus.CtimeNs);

        Assert.NotEqual(digest, await NextBuild().ChecksumAsync("f", false, CancellationToken.None));
    }

    [Fact]
    public async Task A_file_changed_just_before_hashing_is_not_trusted_to_the_cache()
    {
        _files.File("fresh", "new");
        await NextBuild(TimeProvider.System).RootChecksumAsync(CancellationToken.None);

        var next = NextBuild();
        await next.RootChecksumAsync(CancellationToken.None);

        Assert.Equal(3, next.HashedBytes);
    }

    [Fact]
    public async Task Caches_of_different_roots_do_not_mix()
    {
        _files.File("f", "one");
        var other = new ContextFiles(_dir.Combine("other"));
        other.Dir("").File("f", "two");
        await NextBuild().RootChecksumAsync(CancellationToken.None);

        var otherChecksummer = new ContextChecksummer(other.Root, IncludeEverything.Instance, new ContextStatCache(_state, other.Root), new ClockAhead(TimeSpan.FromHours(1)));
        await otherChecksummer.RootChecksumAsync(CancellationToken.None);

        Assert.Equal(3, otherChecksummer.HashedBytes);
    }

    private sealed class ClockAhead(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + by;
    }
}
