using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Frontends.Dockerfile.Tests.Conversion;

/// <summary>RUN --mount, --network, --security and heredocs (RUN, COPY, ONBUILD) as graph ops.</summary>
public sealed class RunConversionTests
{
    private sealed class BusyboxResolver : IImageResolver
    {
        public Task<ResolvedImage> ResolveAsync(string reference, Platform platform, CancellationToken ct)
        {
            if (!reference.Contains("busybox")) throw new ImageNotFoundException(reference, "not found");
            var config = new ImageConfig { Config = new ContainerConfig { Env = ["PATH=/bin"], WorkingDir = "/" } };
            var manifest = new ImageManifest { Config = new Descriptor(MediaTypes.OciConfig, Digest.Sha256("config"), 1) };
            return Task.FromResult(new ResolvedImage(reference, Digest.Sha256("manifest"), manifest, config));
        }
    }

    private static async Task<FrontendResult> ConvertAsync(string dockerfile) =>
        await DockerfileFrontend.ConvertAsync(new FrontendRequest(dockerfile, "Dockerfile"), new BusyboxResolver(), CancellationToken.None);

    private static async Task<(Vertex Vertex, ExecOp Op)> LastRunAsync(string dockerfile)
    {
        var root = (await ConvertAsync(dockerfile)).Definition.Root!;
        return (root, Assert.IsType<ExecOp>(root.Op));
    }

    private static ExecMountSpec MountAt(ExecOp op, string target) => Assert.Single(op.Mounts, m => m.Target == target);

    [Fact]
    public async Task A_cache_mount_defaults_its_id_to_the_target_and_takes_no_input()
    {
        var (vertex, op) = await LastRunAsync("FROM busybox\nWORKDIR /app\nRUN --mount=type=cache,target=/root/.cache --mount=type=cache,target=node_modules,id=npm,sharing=locked,uid=1000,mode=0700 true\n");
        var cache = MountAt(op, "/root/.cache");
        Assert.Equal(("cache", -1, false), (cache.Type, cache.Input, cache.ReadOnly));
        Assert.Equal(new CacheMountOptions("/root/.cache"), cache.Cache);
        var npm = MountAt(op, "/app/node_modules");
        Assert.Equal(new CacheMountOptions("npm", "locked", 1000, 0, Convert.ToInt32("700", 8)), npm.Cache);
        Assert.Single(vertex.Inputs); // the rootfs only
    }

    [Fact]
    public async Task Mount_values_expand_build_args_but_from_must_be_literal()
    {
        var (_, op) = await LastRunAsync("FROM busybox\nARG DIR=/cache/go\nRUN --mount=type=cache,target=$DIR,id=go-${DIR} true\n");
        Assert.Equal("go-/cache/go", MountAt(op, "/cache/go").Cache!.Id);

        var e = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("FROM busybox\nARG S=x\nRUN --mount=from=$S,target=/x true\n"));
        Assert.Contains("doesn't support variable expansion", e.Message);
        Assert.Equal(3, e.Location.Line);
    }

    [Theory]
    [InlineData("type=nfs,target=/x", "unsupported mount type")]
    [InlineData("type=bind,target=/x,mode=0600", "mode not allowed")]
    [InlineData("type=cache,target=/", "invalid mount target")]
    [InlineData("type=tmpfs,target=/x,sharing=locked", "invalid cache sharing")]
    [InlineData("type=cache,target=/x,sharing=sometimes", "unsupported sharing value")]
    [InlineData("type=bind,target=/x,required", "unexpected key 'required'")]
    [InlineData("type=secret,id=a,source=b", "both source and id")]
    [InlineData("type=bind,target=/x,colour=red", "unexpected key 'colour'")]
    [InlineData("type=bind,target=/x,ro=maybe", "invalid value for ro")]
    public async Task Bad_mounts_are_errors_at_their_line(string mount, string message)
    {
        var e = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync($"FROM busybox\nRUN --mount={mount} true\n"));
        Assert.Contains(message, e.Message);
        Assert.Equal(2, e.Location.Line);
    }

    [Fact]
    public async Task Secret_mounts_default_to_run_secrets_and_env_only_secrets_have_no_file()
    {
        var (_, op) = await LastRunAsync("FROM busybox\nRUN --mount=type=secret,id=npmrc,required --mount=type=secret,id=token,env=TOKEN --mount=type=secret,target=/etc/key true\n");
        var file = MountAt(op, "/run/secrets/npmrc");
        Assert.Equal(new SecretMountOptions("npmrc", Required: true), file.Secret);
        Assert.Equal(new SecretMountOptions("token", Env: "TOKEN"), MountAt(op, "").Secret);
        Assert.Equal("key", MountAt(op, "/etc/key").Secret!.Id); // the id comes from the target's name
        Assert.All(op.Mounts.Where(m => m.Type == "secret"), m => Assert.Equal(-1, m.Input));
    }

    [Fact]
    public async Task An_ssh_mount_gets_buildkits_socket_path_and_ssh_auth_sock()
    {
        var (_, op) = await LastRunAsync("FROM busybox\nRUN --mount=type=ssh --mount=type=ssh,id=deploy,target=/s.sock,required true\n");
        Assert.Equal(new SshMountOptions(), MountAt(op, "/run/buildkit/ssh_agent.0").Ssh);
        Assert.Equal(new SshMountOptions("deploy", Required: true), MountAt(op, "/s.sock").Ssh);
        Assert.Contains("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0", op.Meta.Env);
    }

    [Fact]
    public async Task Bind_mounts_read_the_context_or_a_stage_read_only_unless_rw()
    {
        var (vertex, op) = await LastRunAsync("FROM busybox AS tools\nRUN make\nFROM busybox\nRUN --mount=target=/src --mount=type=bind,from=tools,source=/out,target=/tools,rw --mount=type=tmpfs,target=/t,size=64m true\n");
        var context = MountAt(op, "/src");
        Assert.True(context.ReadOnly);
        Assert.IsType<LocalSourceOp>(vertex.Inputs[context.Input].Op);
        var tools = MountAt(op, "/tools");
        Assert.False(tools.ReadOnly);
        Assert.Equal("/out", tools.Selector);
        Assert.Equal("make", Assert.IsType<ExecOp>(vertex.Inputs[tools.Input].Op).Meta.Args[^1]);
        Assert.Equal(64L * 1024 * 1024, MountAt(op, "/t").Tmpfs!.SizeBytes);
    }

    [Fact]
    public async Task Network_and_security_go_into_the_exec_meta()
    {
        var (_, op) = await LastRunAsync("FROM busybox\nRUN --network=none --security=insecure true\n");
        Assert.Equal(("none", "insecure"), (op.Meta.Network, op.Meta.Security));
        var (_, plain) = await LastRunAsync("FROM busybox\nRUN true\n");
        Assert.Equal(("default", "sandbox"), (plain.Meta.Network, plain.Meta.Security));
    }

    [Fact]
    public async Task A_lone_heredoc_is_the_shell_command_and_is_named_by_its_first_line()
    {
        var (vertex, op) = await LastRunAsync("FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\n");
        Assert.Equal(["/bin/sh", "-c", "echo one\necho two\n"], op.Meta.Args.ToArray());
        Assert.EndsWith("RUN <<EOF (echo one...)", vertex.Name);

        var (_, dashed) = await LastRunAsync("FROM busybox\nRUN <<-EOF\n\techo one\n\tEOF\n");
        Assert.Equal("echo one\n", dashed.Meta.Args[^1]);
    }

    [Fact]
    public async Task A_heredoc_with_a_shebang_is_mounted_as_an_executable_script()
    {
        var (vertex, op) = await LastRunAsync("FROM busybox\nRUN <<SCRIPT\n#!/bin/awk -f\nBEGIN { print 1 }\nSCRIPT\n");
        Assert.Equal(["/bin/sh", "-c", "/dev/pipes/SCRIPT"], op.Meta.Args.ToArray());
        var mount = MountAt(op, "/dev/pipes");
        Assert.True(mount.ReadOnly);
        var file = Assert.IsType<MkfileAction>(Assert.Single(Assert.IsType<FileOp>(vertex.Inputs[mount.Input].Op).Actions));
        Assert.Equal(("/SCRIPT", Convert.ToInt32("755", 8), "#!/bin/awk -f\nBEGIN { print 1 }\n"), (file.Path, file.Mode, file.Data));
    }

    [Fact]
    public async Task Other_heredocs_are_handed_to_the_shell_with_their_terminators()
    {
        var (_, op) = await LastRunAsync("FROM busybox\nRUN cat <<A > /a && cat <<-'B' > /b\nfirst $X\nA\n\tsecond\n\tB\n");
        Assert.Equal("cat <<A > /a && cat <<-'B' > /b\nfirst $X\nA\n\tsecond\nB", op.Meta.Args[^1]);
    }

    [Fact]
    public async Task A_heredocs_body_is_part_of_the_graph_digest()
    {
        var a = await ConvertAsync("FROM busybox\nRUN <<EOF\necho a\nEOF\n");
        var same = await ConvertAsync("FROM busybox\nRUN <<EOF\necho a\nEOF\n");
        var other = await ConvertAsync("FROM busybox\nRUN <<EOF\necho b\nEOF\n");
        Assert.Equal(a.Definition.Root!.Digest, same.Definition.Root!.Digest);
        Assert.NotEqual(a.Definition.Root!.Digest, other.Definition.Root!.Digest);
    }

    [Fact]
    public async Task Copy_heredocs_make_files_in_scratch_and_copy_them_with_chmod_and_chown()
    {
        var result = await ConvertAsync("FROM busybox\nARG V=1\nCOPY --chmod=0600 --chown=app <<EOF <<'RAW' /etc/conf/\nv=$V\nEOF\nv=$V\nRAW\n");
        var copy = Assert.IsType<FileOp>(result.Definition.Root!.Op);
        var documents = Assert.IsType<FileOp>(result.Definition.Root!.Inputs[1].Op);
        Assert.Equal([("/EOF", "v=1\n"), ("/RAW", "v=$V\n")], documents.Actions.Cast<MkfileAction>().Select(m => (m.Path, m.Data)).ToArray());
        var actions = copy.Actions.Cast<CopyAction>().ToList();
        Assert.Equal(["/EOF", "/RAW"], actions.Select(a => a.Source));
        Assert.All(actions, a => Assert.Equal(("/etc/conf/", Convert.ToInt32("600", 8), new Owner("app", null)), (a.Destination, a.Options.Mode, a.Options.Chown)));
        Assert.Equal("COPY --chown=app --chmod=0600 <<EOF <<RAW /etc/conf/ # buildkit", result.Config.History[^1].CreatedBy);
    }

    [Fact]
    public async Task Several_copy_heredocs_need_a_directory_destination()
    {
        var e = await Assert.ThrowsAsync<DockerfileException>(() => ConvertAsync("FROM busybox\nCOPY <<A <<B /file\na\nA\nb\nB\n"));
        Assert.Contains("must be a directory", e.Message);
    }

    [Fact]
    public async Task Onbuild_keeps_a_heredoc_trigger_whole()
    {
        var result = await ConvertAsync("FROM busybox\nONBUILD RUN <<EOF\necho triggered\nEOF\n");
        // The trigger's heredoc body and terminator travel with it, to be parsed again by the child build.
        // (Whether the trigger keeps a doubled "RUN " prefix today is the ONBUILD conversion's business.)
        Assert.EndsWith("RUN <<EOF\necho triggered\nEOF", Assert.Single(result.Config.Config.OnBuild!));
    }
}
