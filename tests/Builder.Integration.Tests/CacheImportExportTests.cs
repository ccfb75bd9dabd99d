using Builder.Core.Tests.Registry;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>
/// --cache-to / --cache-from between state roots that share nothing but a cache (a local OCI layout
/// or a real registry on loopback). Every RUN writes random bytes, so "the image has the first
/// builder's bytes" proves the step did not run again.
/// </summary>
[Collection(BusyboxCollection.Name)]
public sealed class CacheImportExportTests(BusyboxImage busybox) : IDisposable
{
    private const string TwoSteps = """
        FROM busybox
        COPY a.txt /a.txt
        RUN head -c 16 /dev/urandom | od -An -tx1 > /r1
        COPY b.txt /b.txt
        RUN head -c 16 /dev/urandom | od -An -tx1 > /r2
        """;

    private const string TwoStages = """
        FROM busybox AS builder
        RUN head -c 16 /dev/urandom | od -An -tx1 > /out
        FROM busybox
        COPY stamp /stamp
        COPY --from=builder /out /out
        """;

    private readonly TempDir _work = new("builder-cache");
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
        _work.Dispose();
    }

    [Fact]
    public async Task A_fresh_state_root_with_a_local_cache_runs_nothing_and_makes_the_same_image()
    {
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var cache = _work.Combine("cache");

        var first = await BuildAsync(NewRoot(), context, "a.tar", "--cache-to", $"type=local,dest={cache},mode=max");
        var second = await BuildAsync(NewRoot(), context, "b.tar", "--cache-from", $"type=local,src={cache}");

        Assert.Equal(first.FileText("r1"), second.FileText("r1"));
        Assert.Equal(first.FileText("r2"), second.FileText("r2"));
        Assert.Equal(first.LayerDigests, second.LayerDigests);
        Assert.Equal(first.ManifestDigest, second.ManifestDigest);
    }

    [Fact]
    public async Task A_fully_cached_rebuild_still_exports_every_step()
    {
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var cache = _work.Combine("cache");
        var root = NewRoot();
        var first = await BuildAsync(root, context, "a.tar");
        await BuildAsync(root, context, "again.tar", "--cache-to", $"type=local,dest={cache},mode=max");

        File.WriteAllText(Path.Combine(context, "b.txt"), "changed");
        var second = await BuildAsync(NewRoot(), context, "b.tar", "--cache-from", $"type=local,src={cache}");
        Assert.Equal(first.FileText("r1"), second.FileText("r1"));
    }

    [Fact]
    public async Task A_changed_context_file_reruns_only_the_steps_after_it()
    {
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var cache = _work.Combine("cache");
        var first = await BuildAsync(NewRoot(), context, "a.tar", "--cache-to", $"type=local,dest={cache},mode=max");

        File.WriteAllText(Path.Combine(context, "b.txt"), "changed");
        var second = await BuildAsync(NewRoot(), context, "b.tar", "--cache-from", $"type=local,src={cache}");

        Assert.Equal(first.FileText("r1"), second.FileText("r1"));
        Assert.NotEqual(first.FileText("r2"), second.FileText("r2"));
        Assert.Equal(first.LayerDigests.Take(3), second.LayerDigests.Take(3));
    }

    [Fact]
    public async Task A_registry_cache_serves_a_fresh_state_root_and_a_second_export_reuses_its_blobs()
    {
        using var registry = RegistryServer.StartPlain();
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var reference = $"{registry.Address}/team/cache:main";

        var first = await BuildAsync(NewRoot(), context, "a.tar", "--cache-to", $"type=registry,ref={reference},mode=max");
        var (second, log) = await BuildWithLogAsync(NewRoot(), context, "b.tar",
            "--cache-from", $"type=registry,ref={reference}", "--cache-to", $"type=registry,ref={reference},mode=max");

        Assert.Equal(first.FileText("r1"), second.FileText("r1"));
        Assert.Equal(first.FileText("r2"), second.FileText("r2"));
        Assert.Equal(first.ManifestDigest, second.ManifestDigest);
        Assert.True(log.Contains(" 0 blobs written"), log);
    }

    [Fact]
    public async Task Mode_min_keeps_only_the_final_stage_and_mode_max_every_stage()
    {
        using var registry = RegistryServer.StartPlain();
        var context = Context(TwoStages, ("stamp", "1"));
        var min = $"{registry.Address}/team/cache:min";
        var max = $"{registry.Address}/team/cache:max";
        var first = await BuildAsync(NewRoot(), context, "a.tar",
            "--cache-to", $"type=registry,ref={min}", "--cache-to", $"type=registry,ref={max},mode=max");

        // Unchanged: both caches hold the final image's steps.
        var same = await BuildAsync(NewRoot(), context, "same.tar", "--cache-from", min);
        Assert.Equal(first.FileText("out"), same.FileText("out"));

        // A changed file before COPY --from needs the builder stage's result again.
        File.WriteAllText(Path.Combine(context, "stamp"), "2");
        var withMin = await BuildAsync(NewRoot(), context, "min.tar", "--cache-from", $"type=registry,ref={min}");
        var withMax = await BuildAsync(NewRoot(), context, "max.tar", "--cache-from", $"type=registry,ref={max}");
        Assert.NotEqual(first.FileText("out"), withMin.FileText("out"));
        Assert.Equal(first.FileText("out"), withMax.FileText("out"));
    }

    [Fact]
    public async Task Import_is_lazy_a_step_only_feeding_cached_steps_is_never_downloaded()
    {
        var context = Context(TwoStages, ("stamp", "1"));
        var cache = _work.Combine("cache");
        var first = await BuildAsync(NewRoot(), context, "a.tar", "--cache-to", $"type=local,dest={cache},mode=max");

        var cacheLayers = CacheLayerDigests(cache);
        var builderOnly = cacheLayers.Except(first.LayerDigests).ToList();
        Assert.NotEmpty(builderOnly);

        var root = NewRoot();
        var second = await BuildAsync(root, context, "b.tar", "--cache-from", $"type=local,src={cache}");
        Assert.Equal(first.FileText("out"), second.FileText("out"));
        var stored = Directory.EnumerateFiles(root.StateRoot, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToHashSet();
        Assert.All(first.LayerDigests, digest => Assert.Contains(digest.Split(':')[1], stored));
        Assert.All(builderOnly, digest => Assert.DoesNotContain(digest.Split(':')[1], stored));
    }

    [Fact]
    public async Task An_image_built_with_an_inline_cache_is_a_cache_source_by_its_name()
    {
        using var registry = RegistryServer.StartPlain();
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var name = $"{registry.Address}/team/app:1";
        var push = await NewRoot().RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "--push", "-t", name, "--cache-to", "type=inline", context]);
        Assert.True(push.ExitCode == 0, push.Output);
        var first = await BuildAsync(NewRoot(), context, "a.tar", "--cache-from", name);

        File.WriteAllText(Path.Combine(context, "b.txt"), "changed");
        var second = await BuildAsync(NewRoot(), context, "b.tar", "--cache-from", name);

        Assert.Equal(first.FileText("r1"), second.FileText("r1"));
        Assert.NotEqual(first.FileText("r2"), second.FileText("r2"));
    }

    [Fact]
    public async Task Two_builders_sharing_one_registry_cache_at_once_both_finish_and_leave_a_whole_cache()
    {
        using var registry = RegistryServer.StartPlain();
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var reference = $"{registry.Address}/team/cache:shared";
        string[] cacheArgs = ["--cache-from", $"type=registry,ref={reference}", "--cache-to", $"type=registry,ref={reference},mode=max"];

        var builds = await Task.WhenAll(
            BuildAsync(NewRoot(), context, "a.tar", cacheArgs),
            BuildAsync(NewRoot(), context, "b.tar", cacheArgs));

        // Whichever export landed last, the cache is one builder's whole result, never a mix.
        var third = await BuildAsync(NewRoot(), context, "c.tar", "--cache-from", reference);
        Assert.Contains(builds, b => b.FileText("r1") == third.FileText("r1") && b.FileText("r2") == third.FileText("r2"));
    }

    [Fact]
    public async Task Two_builders_exporting_to_one_local_directory_at_once_both_finish()
    {
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var cache = _work.Combine("cache");
        string[] cacheArgs = ["--cache-to", $"type=local,dest={cache},mode=max"];

        var builds = await Task.WhenAll(
            BuildAsync(NewRoot(), context, "a.tar", cacheArgs),
            BuildAsync(NewRoot(), context, "b.tar", cacheArgs));

        var third = await BuildAsync(NewRoot(), context, "c.tar", "--cache-from", $"type=local,src={cache}");
        Assert.Contains(builds, b => b.FileText("r1") == third.FileText("r1") && b.FileText("r2") == third.FileText("r2"));
        Assert.Empty(Directory.EnumerateFiles(cache, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_missing_or_malformed_cache_is_a_warning_and_the_build_goes_on()
    {
        using var registry = RegistryServer.StartPlain();
        var context = Context(TwoSteps, ("a.txt", "a"), ("b.txt", "b"));
        var garbage = _work.Combine("garbage");
        Directory.CreateDirectory(garbage);
        File.WriteAllText(Path.Combine(garbage, "index.json"), "{ not json");

        var (image, log) = await BuildWithLogAsync(NewRoot(), context, "a.tar",
            "--cache-from", $"type=registry,ref={registry.Address}/nothing/here:1",
            "--cache-from", $"type=local,src={_work.Combine("absent")}",
            "--cache-from", $"type=local,src={garbage}");

        Assert.Equal(16, image.FileText("r1").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("nothing/here", log);
        Assert.Contains("absent", log);
        Assert.Contains("garbage", log);
    }

    private static List<string> CacheLayerDigests(string layoutDir)
    {
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(layoutDir, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(layoutDir, "blobs", "sha256", manifestDigest.Split(':')[1])));
        return [.. manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }

    private string Context(string dockerfile, params (string Name, string Text)[] files)
    {
        var dir = _work.Combine($"ctx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Dockerfile"), dockerfile + "\n");
        foreach (var (name, text) in files) File.WriteAllText(Path.Combine(dir, name), text);
        return dir;
    }

    private BuilderCli NewRoot()
    {
        var root = new TempDir("builder-state");
        _owned.Add(root);
        return new BuilderCli(root.Path) { Environment = { ["SOURCE_DATE_EPOCH"] = "1700000000" } };
    }

    private async Task<OciArchive> BuildAsync(BuilderCli cli, string context, string tar, params string[] extra) =>
        (await BuildWithLogAsync(cli, context, tar, extra)).Image;

    private async Task<(OciArchive Image, string Log)> BuildWithLogAsync(BuilderCli cli, string context, string tar, params string[] extra)
    {
        var (image, result) = await cli.BuildOciOkAsync(context, _work.Combine(tar), [.. busybox.BuildContextArgs, .. extra]);
        return (image, result.Output);
    }
}
