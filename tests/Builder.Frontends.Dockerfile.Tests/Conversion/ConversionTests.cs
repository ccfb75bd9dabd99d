using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Frontends.Dockerfile.Tests.Conversion;

public sealed class ConversionTests
{
    /// <summary>Serves one fake busybox image for any name it knows; unknown names are not found.</summary>
    private sealed class FakeResolver : IImageResolver
    {
        public static readonly Digest Manifest = Digest.Sha256("manifest");
        public List<string> Resolved { get; } = [];

        public Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
        {
            lock (Resolved) Resolved.Add(reference);
            if (!reference.Contains("busybox")) throw new ImageNotFoundException(reference, "not found");
            var config = new ImageConfig
            {
                Config = new ContainerConfig { Env = ["PATH=/bin", "FROM_BASE=1"], Cmd = ["sh"], WorkingDir = "/" },
                History = [new HistoryEntry { CreatedBy = "base" }],
            };
            var manifest = new ImageManifest { Config = new Descriptor(MediaTypes.OciConfig, Digest.Sha256("config"), 1) };
            return Task.FromResult(new ResolvedImage(reference, Manifest, manifest, config));
        }
    }

    private static async Task<FrontendResult> ConvertAsync(string dockerfile, Func<FrontendRequest, FrontendRequest>? configure = null, FakeResolver? resolver = null)
    {
        var request = new FrontendRequest(dockerfile.Replace("\r\n", "\n"), "Dockerfile");
        if (configure is not null) request = configure(request);
        return await DockerfileFrontend.ConvertAsync(request, resolver ?? new FakeResolver(), CancellationToken.None);
    }

    private static ExecOp Exec(Vertex vertex) => Assert.IsType<ExecOp>(vertex.Op);

    [Fact]
    public async Task Run_in_shell_form_runs_the_default_shell_over_the_pinned_base()
    {
        var result = await ConvertAsync("FROM busybox\nRUN echo hi\n");

        var root = result.Definition.Root!;
        var exec = Exec(root);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], exec.Meta.Args.ToArray());
        Assert.Equal("/", exec.Meta.Cwd);
        var image = Assert.IsType<ImageSourceOp>(Assert.Single(root.Inputs).Op);
        Assert.Equal($"docker.io/library/busybox:latest@{FakeResolver.Manifest}", image.Reference);
        Assert.Equal("[2/2] RUN echo hi", root.Name);
        Assert.Equal(2, root.Location!.Line);
    }

    [Fact]
    public async Task The_same_dockerfile_gives_the_same_graph_digest()
    {
        const string dockerfile = "FROM busybox\nENV A=1\nRUN echo $A\nCOPY x /x\n";
        var a = await ConvertAsync(dockerfile);
        var b = await ConvertAsync(dockerfile);
        Assert.Equal(a.Definition.Root!.Digest, b.Definition.Root!.Digest);
    }

    [Fact]
    public async Task Env_is_expanded_in_later_instructions_and_overrides_args()
    {
        var result = await ConvertAsync("""
            FROM busybox
            ARG NAME=fromarg
            ENV NAME=fromenv DIR=/opt/$NAME
            WORKDIR $DIR
            LABEL who=$NAME
            """);

        Assert.Contains("NAME=fromenv", result.Config.Config.Env!);
        Assert.Contains("DIR=/opt/fromarg", result.Config.Config.Env!); // expanded with the env before this ENV
        Assert.Equal("/opt/fromarg", result.Config.Config.WorkingDir);
        Assert.Equal("fromenv", result.Config.Config.Labels!["who"]);
    }

    [Fact]
    public async Task Build_args_reach_run_but_never_the_image_config()
    {
        var result = await ConvertAsync("FROM busybox\nARG VERSION=1\nRUN echo $VERSION\n",
            r => r with { BuildArgs = new Dictionary<string, string> { ["VERSION"] = "2" } });

        var exec = Exec(result.Definition.Root!);
        Assert.Contains("VERSION=2", exec.Meta.Env);
        Assert.DoesNotContain(result.Config.Config.Env!, e => e.StartsWith("VERSION=", StringComparison.Ordinal));
        Assert.Equal("RUN |1 VERSION=2 /bin/sh -c echo $VERSION # buildkit", result.Config.History[^1].CreatedBy);
    }

    [Fact]
    public async Task A_changed_build_arg_changes_only_steps_where_it_is_in_scope()
    {
        const string dockerfile = "FROM busybox\nRUN echo before\nARG V\nRUN echo after\n";
        var one = await ConvertAsync(dockerfile, r => r with { BuildArgs = new Dictionary<string, string> { ["V"] = "1" } });
        var two = await ConvertAsync(dockerfile, r => r with { BuildArgs = new Dictionary<string, string> { ["V"] = "2" } });

        Assert.Equal(one.Definition.Root!.Inputs[0].Digest, two.Definition.Root!.Inputs[0].Digest);
        Assert.NotEqual(one.Definition.Root.Digest, two.Definition.Root.Digest);
    }

    [Fact]
    public async Task Meta_args_are_usable_in_from_and_inherited_by_a_bare_arg()
    {
        var result = await ConvertAsync("ARG BASE=busybox\nARG TAG\nFROM $BASE\nARG BASE\nRUN echo $BASE\n");
        Assert.Contains("BASE=busybox", Exec(result.Definition.Root!).Meta.Env);
    }

    [Fact]
    public async Task Only_the_stages_the_target_needs_are_converted()
    {
        var resolver = new FakeResolver();
        var result = await ConvertAsync("""
            FROM does-not-exist AS broken
            RUN false

            FROM busybox AS build
            RUN echo build > /out

            FROM busybox
            COPY --from=build /out /out
            """, resolver: resolver);

        Assert.DoesNotContain(resolver.Resolved, r => r.Contains("does-not-exist"));
        var copy = Assert.IsType<FileOp>(result.Definition.Root!.Op);
        var action = Assert.IsType<CopyAction>(Assert.Single(copy.Actions));
        Assert.Equal("/out", action.Destination);
        Assert.Null(action.Options.Chown); // files from a stage keep their owners
        Assert.IsType<ExecOp>(result.Definition.Root.Inputs[action.SourceInput].Op);
    }

    [Fact]
    public async Task Target_selects_a_stage_and_an_unknown_target_is_an_error()
    {
        const string dockerfile = "FROM busybox AS one\nRUN echo one\nFROM busybox AS two\nRUN echo two\n";
        var result = await ConvertAsync(dockerfile, r => r with { Target = "one" });
        Assert.Equal(["/bin/sh", "-c", "echo one"], Exec(result.Definition.Root!).Meta.Args.ToArray());

        var error = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync(dockerfile, r => r with { Target = "three" }));
        Assert.Contains("target stage \"three\" could not be found", error.Message);
    }

    [Fact]
    public async Task Copy_destinations_follow_workdir_and_keep_a_trailing_slash()
    {
        var result = await ConvertAsync("FROM busybox\nWORKDIR /app\nWORKDIR src\nCOPY a b ./\nCOPY c .\nCOPY d renamed\n");
        var destinations = new List<string>();
        for (var v = result.Definition.Root; v is not null && v.Op is FileOp op; v = v.Inputs.FirstOrDefault())
            destinations.InsertRange(0, op.Actions.OfType<CopyAction>().Select(a => a.Destination));
        Assert.Equal(["/app/src/", "/app/src/", "/app/src/", "/app/src/renamed"], destinations);
        Assert.Equal("/app/src", result.Config.Config.WorkingDir);
    }

    [Fact]
    public async Task Context_files_are_owned_by_root_unless_chown_says_otherwise()
    {
        var result = await ConvertAsync("FROM busybox\nCOPY a /a\nCOPY --chown=app:staff --chmod=640 b /b\n");
        var chowned = Assert.IsType<CopyAction>(Assert.IsType<FileOp>(result.Definition.Root!.Op).Actions[0]);
        Assert.Equal(new Owner("app", "staff"), chowned.Options.Chown);
        Assert.Equal(Convert.ToInt32("640", 8), chowned.Options.Mode);
        var plain = Assert.IsType<CopyAction>(Assert.IsType<FileOp>(result.Definition.Root.Inputs[0].Op).Actions[0]);
        Assert.Equal(new Owner("0", "0"), plain.Options.Chown);
    }

    [Fact]
    public async Task Several_sources_need_a_directory_destination()
    {
        var error = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("FROM busybox\nCOPY a b /dest\n"));
        Assert.Equal(2, error.Location.Line);
        Assert.Contains("must be a directory and end with a /", error.Message);
    }

    [Fact]
    public async Task A_new_entrypoint_drops_the_inherited_cmd_but_not_one_set_in_the_stage()
    {
        var inherited = await ConvertAsync("FROM busybox\nENTRYPOINT [\"/app\"]\n");
        Assert.Null(inherited.Config.Config.Cmd);
        Assert.Equal(["/app"], inherited.Config.Config.Entrypoint!);

        var own = await ConvertAsync("FROM busybox\nCMD [\"--help\"]\nENTRYPOINT /app\n");
        Assert.Equal(["--help"], own.Config.Config.Cmd!);
        Assert.Equal(["/bin/sh", "-c", "/app"], own.Config.Config.Entrypoint!);
    }

    [Fact]
    public async Task Metadata_instructions_fill_the_config_and_add_empty_layer_history()
    {
        var result = await ConvertAsync("""
            FROM busybox
            EXPOSE 80 8000-8001/udp
            VOLUME /data
            USER app
            STOPSIGNAL SIGTERM
            HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost
            MAINTAINER someone
            """);
        var config = result.Config.Config;
        Assert.Equal(["80/tcp", "8000/udp", "8001/udp"], config.ExposedPorts!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["/data"], config.Volumes!.Keys);
        Assert.Equal("app", config.User);
        Assert.Equal("SIGTERM", config.StopSignal);
        Assert.Equal(30_000_000_000L, config.Healthcheck!.Interval);
        Assert.Equal(3, config.Healthcheck.Retries);
        Assert.Equal("someone", result.Config.Author);
        Assert.All(result.Config.History.Skip(1), h => Assert.True(h.EmptyLayer));
        Assert.StartsWith("docker.io/library/busybox:latest@sha256:", Assert.IsType<ImageSourceOp>(result.Definition.Root!.Op).Reference);
    }

    [Fact]
    public async Task Scratch_starts_empty_with_a_default_path()
    {
        var result = await ConvertAsync("FROM scratch\nCOPY a /a\n");
        var copy = Assert.IsType<FileOp>(result.Definition.Root!.Op);
        Assert.Equal(-1, copy.BaseInput);
        Assert.Contains(result.Config.Config.Env!, e => e.StartsWith("PATH=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_base_image_names_the_from_line()
    {
        var error = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("FROM busybox\nRUN true\nFROM nothing-here\n"));
        Assert.Equal(3, error.Location.Line);
        Assert.Contains("nothing-here", error.Message);
    }

    [Fact]
    public async Task Source_date_epoch_sets_created_everywhere()
    {
        var epoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var result = await ConvertAsync("FROM busybox\nRUN true\n", r => r with { SourceDateEpoch = epoch });
        Assert.Equal(epoch, result.Config.Created);
        Assert.Equal(epoch, result.Config.History[^1].Created);
    }

    [Fact]
    public async Task Unused_build_args_are_reported()
    {
        var result = await ConvertAsync("FROM busybox\nRUN true\n",
            r => r with { BuildArgs = new Dictionary<string, string> { ["NOPE"] = "1", ["HTTP_PROXY"] = "x" } });
        Assert.Equal(["One or more build-args [NOPE] were not consumed"], result.Warnings);
    }
}
