using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>
/// Whole builds through the real CLI, as root: real overlay snapshots, real runc, OCI output
/// checked by reading it back (and by skopeo/umoci, which know nothing of our code).
/// </summary>
[Collection(BusyboxCollection.Name)]
public sealed class EndToEndBuildTests(BusyboxImage busybox) : IDisposable
{
    private readonly TempDir _state = new("builder-state");
    private readonly TempDir _context = new("builder-ctx");
    private readonly TempDir _out = new("builder-out");

    public void Dispose()
    {
        _state.Dispose();
        _context.Dispose();
        _out.Dispose();
    }

    private BuilderCli Cli(string? stateRoot = null) => new(stateRoot ?? _state.Path);

    private async Task<OciArchive> BuildOciAsync(BuilderCli cli, params string[] extra)
    {
        var tar = _out.Combine($"image-{Guid.NewGuid():N}.tar");
        return (await cli.BuildOciOkAsync(_context.Path, tar, [.. busybox.BuildContextArgs, .. extra])).Image;
    }

    [Fact]
    public async Task Run_creates_modifies_and_deletes_files_and_the_layers_say_so()
    {
        _context.Write("Dockerfile", """
            FROM busybox
            RUN echo created > /created.txt && echo changed > /etc/motd && rm /bin/vi && mkdir -p /d && echo x > /d/x
            ENV FOO=bar
            WORKDIR /work
            CMD ["sh", "-c", "cat /created.txt"]
            """);
        var image = await BuildOciAsync(Cli());

        var runLayer = image.Layers[^1].Count == 0 ? image.Layers[^2] : image.Layers.First(l => l.Any(e => e.Path == "created.txt"));
        Assert.Contains(runLayer, e => e.Path == "created.txt" && e.Content.AsSpan().SequenceEqual("created\n"u8));
        Assert.Contains(runLayer, e => e.Path == "bin/.wh.vi");

        var fs = image.Flatten();
        Assert.Equal("created\n", image.FileText("created.txt"));
        Assert.Equal("changed\n", image.FileText("etc/motd"));
        Assert.False(fs.ContainsKey("bin/vi"));
        Assert.True(fs.ContainsKey("bin/sh"));
        Assert.True(fs.ContainsKey("work"));

        var config = image.Config.GetProperty("config");
        Assert.Contains("FOO=bar", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("/work", config.GetProperty("WorkingDir").GetString());
        Assert.Equal(["sh", "-c", "cat /created.txt"], config.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task Skopeo_and_umoci_accept_the_oci_archive()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN echo hi > /hi\n");
        var tar = _out.Combine("image.tar");
        var build = await Cli().RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "-t", "hi:v1", "-o", $"type=oci,dest={tar}", _context.Path]);
        Assert.True(build.ExitCode == 0, build.Output);

        var inspect = await ExternalTool.RunAsync("skopeo", "inspect", $"oci-archive:{tar}");
        Assert.True(inspect.ExitCode == 0, inspect.Output);
        Assert.Contains("\"Layers\"", inspect.Stdout);

        var layout = _out.Combine("layout");
        Directory.CreateDirectory(layout);
        Assert.Equal(0, (await ExternalTool.RunAsync("tar", "-xf", tar, "-C", layout)).ExitCode);
        var refName = OciArchive.Load(tar).Index.GetProperty("manifests")[0].TryGetProperty("annotations", out var a)
            && a.TryGetProperty("org.opencontainers.image.ref.name", out var n) ? n.GetString() : null;
        var bundle = _out.Combine("bundle");
        var unpack = await ExternalTool.RunAsync("umoci", "unpack", "--image", refName is null ? layout : $"{layout}:{refName}", bundle);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        Assert.Equal("hi\n", File.ReadAllText(Path.Combine(bundle, "rootfs", "hi")));
    }

    [Fact]
    public async Task A_rebuild_is_cached_by_content_not_by_mtime()
    {
        _context.Write("Dockerfile", """
            FROM busybox
            RUN head -c 32 /dev/urandom | od -An -tx1 > /random-before
            COPY a.txt /a.txt
            RUN head -c 32 /dev/urandom | od -An -tx1 > /random-after
            COPY b.txt /b.txt
            LABEL stage=last
            ENV MODE=cached
            """);
        var a = _context.Write("a.txt", "one");
        _context.Write("b.txt", "bee");
        var cli = Cli();

        var first = await BuildOciAsync(cli);
        var second = await BuildOciAsync(cli);
        Assert.Equal(first.FileText("random-before"), second.FileText("random-before"));
        Assert.Equal(first.FileText("random-after"), second.FileText("random-after"));
        // A fully cached rebuild is the same image, dates included (as Docker's), not a new ID per build.
        Assert.Equal(first.LayerDigests, second.LayerDigests);
        Assert.Equal(first.ConfigDigest, second.ConfigDigest);
        Assert.Equal(first.ManifestDigest, second.ManifestDigest);

        File.SetLastWriteTimeUtc(a, DateTime.UtcNow.AddHours(1));
        var touched = await BuildOciAsync(cli);
        Assert.Equal(first.FileText("random-after"), touched.FileText("random-after"));

        File.WriteAllText(a, "two");
        var changed = await BuildOciAsync(cli);
        Assert.Equal(first.FileText("random-before"), changed.FileText("random-before"));
        Assert.NotEqual(first.FileText("random-after"), changed.FileText("random-after"));
        Assert.Equal("two", changed.FileText("a.txt"));
        Assert.Equal("bee", changed.FileText("b.txt"));
    }

    [Fact]
    public async Task Run_sees_only_its_own_sandbox()
    {
        var sentinel = $"/var/tmp/host-sentinel-{Guid.NewGuid():N}";
        File.WriteAllText(sentinel, "host secret");
        try
        {
            _context.Write("Dockerfile", $"""
                FROM busybox
                RUN ls /proc | grep -E '^[0-9]+$' > /pids && hostname > /hostname && (test -e {sentinel} && echo visible || echo hidden) > /sentinel
                """);
            var image = await BuildOciAsync(Cli());

            var pids = image.FileText("pids").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("1", pids);
            Assert.True(pids.Length <= 5, $"sandbox sees {pids.Length} processes: {string.Join(',', pids)}");
            Assert.NotEqual(Environment.MachineName, image.FileText("hostname").Trim());
            Assert.Equal("hidden\n", image.FileText("sentinel"));
        }
        finally
        {
            File.Delete(sentinel);
        }
    }

    [Fact]
    public async Task A_failing_run_names_its_line_tags_nothing_and_leaves_nothing_behind()
    {
        _context.Write("Dockerfile", "FROM busybox\nRUN echo fine\nRUN echo about to fail && exit 3\nRUN echo never\n");
        var cli = Cli();
        var result = await cli.RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "-t", "should-not-exist", _context.Path]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Dockerfile:3", result.Stderr);
        Assert.Contains("exit code: 3", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);

        var images = await cli.RunAsync("images");
        Assert.DoesNotContain("should-not-exist", images.Stdout);
        Assert.Empty(SystemState.MountsUnder(_state.Path));
        Assert.Empty(SystemState.ProcessesMentioning(_state.Path));
        var temp = Path.Combine(_state.Path, "tmp");
        Assert.True(!Directory.Exists(temp) || !Directory.EnumerateFileSystemEntries(temp).Any(), "temp files left behind");
    }

    [Fact]
    public async Task Two_empty_state_roots_give_the_same_image()
    {
        _context.Write("Dockerfile", "FROM busybox\nCOPY f /f\nRUN echo deterministic > /d && chmod 640 /d\n");
        _context.Write("f", "content");
        using var otherState = new TempDir("builder-state2");

        var first = Cli();
        var second = Cli(otherState.Path);
        first.Environment["SOURCE_DATE_EPOCH"] = second.Environment["SOURCE_DATE_EPOCH"] = "1700000000";
        var a = await BuildOciAsync(first);
        var b = await BuildOciAsync(second);

        Assert.Equal(a.LayerDigests, b.LayerDigests);
        Assert.Equal(a.ConfigDigest, b.ConfigDigest);
        Assert.Equal(a.ManifestDigest, b.ManifestDigest);
    }

    [Fact]
    public async Task Tagged_images_are_listed_and_inspectable()
    {
        _context.Write("Dockerfile", "FROM busybox\nLABEL team=build\nRUN true\n");
        var cli = Cli();
        var build = await cli.RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "-t", "hello:1", _context.Path]);
        Assert.True(build.ExitCode == 0, build.Output);

        var images = await cli.RunAsync("images");
        Assert.Contains("docker.io/library/hello:1", images.Stdout);
        var inspect = await cli.RunAsync("inspect", "hello:1");
        Assert.Equal(0, inspect.ExitCode);
        Assert.Contains("\"team\": \"build\"", inspect.Stdout);
    }

    [Fact]
    public async Task The_readme_example_builds()
    {
        var example = Path.Combine(RepoPaths.Testdata, "examples", "hello");
        var tar = _out.Combine("hello.tar");
        var result = await Cli().RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "-t", "hello", "-o", $"type=oci,dest={tar}", example]);
        Assert.True(result.ExitCode == 0, result.Output);
        var image = OciArchive.Load(tar);
        Assert.Equal("Hello, builder!\n", image.FileText("hello.txt"));
    }
}
