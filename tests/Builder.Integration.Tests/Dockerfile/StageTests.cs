using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>Multi-stage builds, --target pruning, COPY --from, ARG scoping and predefined args, platforms.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class StageTests(BusyboxImage busybox, SharedStateRoot state) : DockerfileSuite(busybox, state), IClassFixture<SharedStateRoot>
{
    [Fact]
    public async Task Copy_from_a_named_stage_takes_its_files_and_owners()
    {
        var image = await BuildAsync("""
            FROM busybox AS build
            RUN mkdir /out && echo built > /out/result && chown 7:8 /out/result
            FROM scratch
            COPY --from=build /out/result /result
            """);
        AssertFile(image, "result", "built\n");
        Assert.Equal((7, 8), (Entry(image, "result").Uid, Entry(image, "result").Gid));
        AssertAbsent(image, "bin/sh");
    }

    [Fact]
    public async Task Copy_from_a_stage_index()
    {
        var image = await BuildAsync("FROM busybox\nRUN echo zero > /z\nFROM scratch\nCOPY --from=0 /z /z\n");
        AssertFile(image, "z", "zero\n");
    }

    [Fact]
    public async Task Copy_from_an_image_reference()
    {
        var image = await BuildAsync("FROM scratch\nCOPY --from=busybox /etc/passwd /passwd\n");
        Assert.Contains("app:x:1000", image.FileText("passwd"));
    }

    [Fact]
    public async Task Copy_from_an_unknown_stage_fails_with_its_line()
    {
        var result = await BuildFailsAsync("FROM scratch\nCOPY --from=nosuchstage /x /x\n");
        Assert.Contains("nosuchstage", result.Stderr);
        Assert.Contains("Dockerfile:2", result.Stderr);
    }

    [Fact]
    public async Task From_an_earlier_stage_inherits_files_and_config()
    {
        var image = await BuildAsync("FROM busybox AS base\nENV FROM_BASE=1\nRUN echo b > /base\nFROM base\nRUN echo c > /child\n");
        AssertFile(image, "base", "b\n");
        AssertFile(image, "child", "c\n");
        Assert.Contains("FROM_BASE=1", EnvOf(image));
    }

    [Fact]
    public async Task Target_builds_the_named_stage_only()
    {
        var image = await BuildAsync("FROM busybox AS first\nRUN echo one > /one\nFROM busybox AS second\nRUN exit 1\n", "--target", "first");
        AssertFile(image, "one", "one\n");
    }

    [Fact]
    public async Task An_unreferenced_failing_stage_does_not_fail_the_build()
    {
        var image = await BuildAsync("FROM busybox AS broken\nRUN exit 9\nFROM busybox AS good\nRUN echo ok > /ok\n");
        AssertFile(image, "ok", "ok\n");
    }

    [Fact]
    public async Task An_unknown_target_is_an_error()
    {
        var result = await BuildFailsAsync("FROM scratch AS only\n", "--target", "missing");
        Assert.Contains("target stage \"missing\" could not be found", result.Stderr);
    }

    [Fact]
    public async Task Arg_before_from_chooses_the_base_and_is_redeclared_for_its_default()
    {
        var image = await BuildAsync("ARG BASE=busybox\nARG VERSION=1.2\nFROM ${BASE}\nARG VERSION\nRUN echo v=$VERSION > /version\n");
        AssertFile(image, "version", "v=1.2\n");
    }

    [Fact]
    public async Task A_meta_arg_is_not_visible_in_a_stage_without_redeclaring_it()
    {
        var image = await BuildAsync("ARG HIDDEN=secret\nFROM busybox\nRUN echo \"[$HIDDEN]\" > /hidden\n");
        AssertFile(image, "hidden", "[]\n");
    }

    [Fact]
    public async Task Build_args_override_defaults_and_reach_run_but_not_the_config()
    {
        var image = await BuildAsync("FROM busybox\nARG GREETING=hello\nRUN echo $GREETING > /greeting\n", "--build-arg", "GREETING=bonjour");
        AssertFile(image, "greeting", "bonjour\n");
        Assert.DoesNotContain(EnvOf(image), e => e.StartsWith("GREETING=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Env_overrides_an_arg_of_the_same_name()
    {
        var image = await BuildAsync("FROM busybox\nARG NAME=from-arg\nENV NAME=from-env\nRUN echo $NAME > /name\n", "--build-arg", "NAME=from-cli");
        AssertFile(image, "name", "from-env\n");
        Assert.Contains("NAME=from-env", EnvOf(image));
    }

    [Fact]
    public async Task Predefined_platform_args_are_available_when_declared()
    {
        var image = await BuildAsync("FROM busybox\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG BUILDPLATFORM\nRUN echo $TARGETPLATFORM $TARGETOS $TARGETARCH $BUILDPLATFORM > /platform\n");
        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64";
        AssertFile(image, "platform", $"linux/{arch} linux {arch} linux/{arch}\n");
    }

    [Fact]
    public async Task A_build_arg_change_invalidates_only_the_steps_after_its_arg()
    {
        const string dockerfile = "FROM busybox\nRUN head -c 16 /dev/urandom | od -An -tx1 > /before\nARG V\nRUN echo $V > /v && head -c 16 /dev/urandom | od -An -tx1 > /after\n";
        var first = await BuildAsync(dockerfile, "--build-arg", "V=1");
        var second = await BuildAsync(dockerfile, "--build-arg", "V=2");
        Assert.Equal(first.FileText("before"), second.FileText("before"));
        Assert.NotEqual(first.FileText("after"), second.FileText("after"));
        AssertFile(second, "v", "2\n");
    }

    [Fact]
    public async Task A_foreign_platform_run_fails_clearly()
    {
        var foreign = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux/s390x" : "linux/s390x";
        var result = await BuildFailsAsync($"FROM --platform={foreign} scratch\nRUN true\n");
        Assert.Contains("no emulator is registered", result.Stderr);
        Assert.Contains("Dockerfile:2", result.Stderr);
    }

    [Fact]
    public async Task A_scratch_stage_for_another_platform_records_it_in_the_config()
    {
        Write("f", "f");
        var image = await BuildAsync("FROM scratch\nCOPY f /f\n", "--platform", "linux/arm64");
        Assert.Equal("arm64", image.Config.GetProperty("architecture").GetString());
        Assert.Equal("linux", image.Config.GetProperty("os").GetString());
    }

    [Fact]
    public async Task An_invalid_platform_is_refused()
    {
        var result = await BuildFailsAsync("FROM scratch\n", "--platform", "not/a/real/platform/at/all");
        Assert.Contains("platform", result.Stderr);
    }
}
