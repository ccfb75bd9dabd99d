using System.Text.Json;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>CLI flags around a build (-f -, --iidfile, --metadata-file, --build-context) and the errors users see.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class CliAndErrorTests(BusyboxImage busybox, SharedStateRoot state) : DockerfileSuite(busybox, state), IClassFixture<SharedStateRoot>
{
    [Fact]
    public async Task The_dockerfile_can_come_from_stdin()
    {
        Write("f.txt", "ctx");
        Cli.StandardInput = "FROM scratch\nCOPY f.txt /from-stdin\n";
        try
        {
            var image = await BuildAsync("FROM scratch\nCOPY nothing-here /x\n", "-f", "-");
            AssertFile(image, "from-stdin", "ctx");
        }
        finally
        {
            Cli.StandardInput = null;
        }
    }

    [Fact]
    public async Task Iidfile_holds_the_config_digest()
    {
        var iid = OutPath("iid");
        var image = await BuildAsync("FROM scratch\nENV A=1\n", "--iidfile", iid);
        Assert.Equal(image.ConfigDigest, File.ReadAllText(iid).Trim());
    }

    [Fact]
    public async Task Metadata_file_holds_the_image_and_config_digests()
    {
        var metadata = OutPath("metadata.json");
        var image = await BuildAsync("FROM scratch\nLABEL a=b\n", "--metadata-file", metadata, "-t", "meta-test:1");
        using var json = JsonDocument.Parse(File.ReadAllText(metadata));
        Assert.Equal(image.ConfigDigest, json.RootElement.GetProperty("containerimage.config.digest").GetString());
        Assert.Equal(image.ManifestDigest, json.RootElement.GetProperty("containerimage.digest").GetString());
        Assert.Equal("docker.io/library/meta-test:1", json.RootElement.GetProperty("image.name").GetString());
    }

    [Fact]
    public async Task A_named_directory_context_serves_copy_from_and_from()
    {
        using var extra = new TempDir("builder-suite-named");
        extra.Write("lib.txt", "library");
        var image = await BuildAsync("FROM scratch\nCOPY --from=libs lib.txt /lib.txt\n", "--build-context", $"libs={extra.Path}");
        AssertFile(image, "lib.txt", "library");

        var base_ = await BuildAsync("FROM libs\n", "--build-context", $"libs={extra.Path}");
        AssertFile(base_, "lib.txt", "library");
    }

    [Fact]
    public async Task A_dockerfile_by_another_name_with_its_own_ignore_file()
    {
        Write("app.txt", "a");
        Write("skip.txt", "s");
        Write("build.Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
        Write("build.Dockerfile.dockerignore", "skip.txt\n");
        var image = await BuildAsync("FROM scratch\n", "-f", Context.Combine("build.Dockerfile"));
        AssertFile(image, "ctx/app.txt", "a");
        AssertAbsent(image, "ctx/skip.txt");
    }

    [Fact]
    public async Task An_unknown_instruction_names_its_line()
    {
        var result = await BuildFailsAsync("FROM scratch\nENV A=1\nFROBNICATE now\n");
        Assert.Contains("Dockerfile:3", result.Stderr);
        Assert.Contains("unknown instruction: FROBNICATE", result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_failing_run_reports_its_exit_code_and_line()
    {
        var result = await BuildFailsAsync("FROM busybox\nRUN echo fine\nRUN sh -c 'exit 7'\n");
        Assert.Contains("Dockerfile:3", result.Stderr);
        Assert.Contains("exit code: 7", result.Stderr);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task A_dockerfile_without_from_is_an_error()
    {
        var result = await BuildFailsAsync("ARG X=1\n");
        Assert.Contains("no FROM", result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_instruction_before_from_is_an_error()
    {
        var result = await BuildFailsAsync("RUN true\nFROM scratch\n");
        Assert.Contains("Dockerfile:1", result.Stderr);
    }

    [Fact]
    public async Task An_unknown_flag_on_copy_is_an_error()
    {
        Write("f", "f");
        var result = await BuildFailsAsync("FROM scratch\nCOPY --frob=1 f /f\n");
        Assert.Contains("Dockerfile:2", result.Stderr);
        Assert.Contains("frob", result.Stderr);
    }

    [Fact]
    public async Task A_missing_base_image_fails_with_its_name()
    {
        var result = await BuildFailsAsync("FROM no-such-image-anywhere:1\n");
        Assert.Contains("no-such-image-anywhere", result.Stderr);
        Assert.Contains("Dockerfile:1", result.Stderr);
    }

    [Fact]
    public async Task A_missing_context_directory_is_reported()
    {
        var result = await Cli.RunAsync("build", "--progress", "plain", "/var/tmp/does-not-exist-" + Guid.NewGuid().ToString("N"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("not found", result.Stderr);
    }

    [Fact]
    public async Task An_unused_build_arg_is_warned_about()
    {
        var (result, _) = await TryBuildAsync("FROM scratch\nARG USED\n", "--build-arg", "USED=1", "--build-arg", "UNUSED=2");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("[UNUSED] were not consumed", result.Output);
    }
}
