using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Frontends.Dockerfile.Tests.Conversion;

/// <summary>How COPY, ADD and ONBUILD become ops (fast; the end-to-end suite checks the files).</summary>
public sealed class CopyAddConversionTests
{
    private sealed class BaseWithTriggers(params string[] triggers) : IImageResolver
    {
        public Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
        {
            var config = new ImageConfig { Config = new ContainerConfig { Env = ["PATH=/bin"], OnBuild = triggers.Length == 0 ? null : triggers } };
            var manifest = new ImageManifest { Config = new Descriptor(MediaTypes.OciConfig, Digest.Sha256("config"), 1) };
            return Task.FromResult(new ResolvedImage(reference, Digest.Sha256("m"), manifest, config));
        }
    }

    private static Task<FrontendResult> ConvertAsync(string dockerfile, params string[] triggers) =>
        DockerfileFrontend.ConvertAsync(new FrontendRequest(dockerfile, "Dockerfile"), new BaseWithTriggers(triggers), CancellationToken.None);

    private static CopyAction Copy(FrontendResult result, int index = 0) =>
        Assert.IsType<CopyAction>(Assert.IsType<FileOp>(result.Definition.Root!.Op).Actions[index]);

    [Fact]
    public async Task Add_of_a_url_reads_from_an_http_source_named_after_the_url()
    {
        var sum = "sha256:" + new string('a', 64);
        var result = await ConvertAsync($"FROM base\nADD --checksum={sum} https://example.com/dl/tool.tgz /opt/\n");
        var copy = Copy(result);
        var http = Assert.IsType<HttpSourceOp>(result.Definition.Root!.Inputs[copy.SourceInput].Op);
        Assert.Equal(new HttpSourceOp("https://example.com/dl/tool.tgz", sum, "tool.tgz"), http);
        Assert.Equal("/tool.tgz", copy.Source);
        Assert.False(copy.Options.AttemptUnpack);
    }

    [Fact]
    public async Task A_url_without_a_path_downloads_to_unnamed()
    {
        var result = await ConvertAsync("FROM base\nADD http://example.com /x\n");
        Assert.Equal("/__unnamed__", Copy(result).Source);
    }

    [Fact]
    public async Task A_malformed_checksum_is_refused_at_its_line()
    {
        var error = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("FROM base\nADD --checksum=md5:abc https://example.com/f /f\n"));
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public async Task Copy_flags_reach_the_copy_options()
    {
        var result = await ConvertAsync("FROM base\nARG PAT=*.log\nCOPY --parents --exclude=$PAT --chown=app:staff --chmod=640 a/./b /dst/\n");
        var copy = Copy(result);
        Assert.True(copy.Options.IncludeParents);
        Assert.Equal(["*.log"], copy.Options.Excludes.ToArray());
        Assert.Equal(new Owner("app", "staff"), copy.Options.Chown);
        Assert.Equal(Convert.ToInt32("640", 8), copy.Options.Mode);
        Assert.Equal("COPY --parents --chown=app:staff --chmod=640 a/./b /dst/ # buildkit", result.Config.History[^1].CreatedBy);
    }

    [Fact]
    public async Task Add_keeps_tar_owners_unless_chown_is_given()
    {
        var plain = Copy(await ConvertAsync("FROM base\nADD a.tar /\n"));
        Assert.True(plain.Options.AttemptUnpack);
        Assert.Null(plain.Options.ExtractChown);
        var owned = Copy(await ConvertAsync("FROM base\nADD --chown=5:6 a.tar /\n"));
        Assert.Equal(new Owner("5", "6"), owned.Options.ExtractChown);
    }

    [Fact]
    public async Task Onbuild_triggers_of_the_base_run_before_the_stage_and_are_not_inherited()
    {
        var result = await ConvertAsync("FROM base\nENV AFTER=1\n", "ENV FIRST=1", "RUN echo second");
        Assert.Null(result.Config.Config.OnBuild);
        var exec = Assert.IsType<ExecOp>(result.Definition.Root!.Op);
        Assert.Contains("FIRST=1", exec.Meta.Env);
        Assert.Equal(["PATH=/bin", "FIRST=1", "AFTER=1"], result.Config.Config.Env);
    }

    [Fact]
    public async Task A_trigger_that_is_not_allowed_is_refused_at_the_from_line()
    {
        var error = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("ARG X\nFROM base\n", "ONBUILD RUN x"));
        Assert.Equal(2, error.Location.Line);
    }
}
