using System.Text.Json;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>The image config as BuildKit writes it: every metadata instruction, ONBUILD, history.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class ConfigTests(BusyboxImage busybox, SharedStateRoot state) : DockerfileSuite(busybox, state), IClassFixture<SharedStateRoot>
{
    [Fact]
    public async Task Env_in_both_syntaxes_and_expanded_against_the_previous_environment()
    {
        var image = await BuildAsync("FROM busybox\nENV A=1 B=\"two words\"\nENV C 3 and more\nENV D=${A}-x A=9\nRUN echo \"$B|$C|$D\" > /env\n");
        var env = EnvOf(image);
        Assert.Contains("B=two words", env);
        Assert.Contains("C=3 and more", env);
        Assert.Contains("D=1-x", env);
        Assert.Contains("A=9", env);
        AssertFile(image, "env", "two words|3 and more|1-x\n");
    }

    [Fact]
    public async Task Labels_from_the_dockerfile_and_the_cli_are_merged()
    {
        var image = await BuildAsync("FROM scratch\nARG V=1.0\nLABEL version=$V \"with space\"=\"yes it is\"\nLABEL team=build\n", "--label", "team=cli", "--label", "extra=e");
        var labels = ConfigOf(image).GetProperty("Labels");
        Assert.Equal("1.0", labels.GetProperty("version").GetString());
        Assert.Equal("yes it is", labels.GetProperty("with space").GetString());
        Assert.Equal("cli", labels.GetProperty("team").GetString());
        Assert.Equal("e", labels.GetProperty("extra").GetString());
    }

    [Fact]
    public async Task Maintainer_becomes_the_author()
    {
        var image = await BuildAsync("FROM scratch\nMAINTAINER Jane Doe <jane@example.com>\n");
        Assert.Equal("Jane Doe <jane@example.com>", image.Config.GetProperty("author").GetString());
    }

    [Fact]
    public async Task Expose_records_ports_with_protocols_and_ranges()
    {
        var image = await BuildAsync("FROM scratch\nARG P=8080\nEXPOSE 80 $P/udp 9000-9002\n");
        var ports = ConfigOf(image).GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["80/tcp", "8080/udp", "9000/tcp", "9001/tcp", "9002/tcp"], ports.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Volume_in_both_forms()
    {
        var image = await BuildAsync("FROM scratch\nVOLUME /data\nVOLUME [\"/logs\", \"/cache\"]\n");
        var volumes = ConfigOf(image).GetProperty("Volumes").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["/cache", "/data", "/logs"], volumes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task User_is_recorded_and_used_by_run()
    {
        var image = await BuildAsync("FROM busybox\nUSER app\nRUN id -u > /tmp/uid\nUSER root\nRUN cp /tmp/uid /uid\nUSER app:staff\n");
        Assert.Equal("app:staff", ConfigOf(image).GetProperty("User").GetString());
        AssertFile(image, "uid", "1000\n");
    }

    [Fact]
    public async Task Workdir_is_created_relative_and_expanded()
    {
        var image = await BuildAsync("FROM busybox\nENV BASE=/srv\nWORKDIR $BASE\nWORKDIR app\nWORKDIR ../other/./deep\nRUN pwd > /pwd\n");
        Assert.Equal("/srv/other/deep", ConfigOf(image).GetProperty("WorkingDir").GetString());
        Assert.Equal(System.Formats.Tar.TarEntryType.Directory, Entry(image, "srv/app").Type);
        AssertFile(image, "pwd", "/srv/other/deep\n");
    }

    [Fact]
    public async Task Workdir_belongs_to_the_user()
    {
        var image = await BuildAsync("FROM busybox\nUSER app\nWORKDIR /home/app/work\n");
        Assert.Equal(1000, Entry(image, "home/app/work").Uid);
    }

    [Fact]
    public async Task Shell_changes_how_run_and_cmd_are_wrapped()
    {
        var image = await BuildAsync("FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN echo $0 > /shell\nCMD echo hi\n");
        Assert.Equal(["/bin/sh", "-ec"], Strings(ConfigOf(image).GetProperty("Shell")));
        Assert.Equal(["/bin/sh", "-ec", "echo hi"], Strings(ConfigOf(image).GetProperty("Cmd")));
        AssertFile(image, "shell", "/bin/sh\n");
    }

    [Fact]
    public async Task Stopsignal_is_recorded_expanded()
    {
        var image = await BuildAsync("FROM scratch\nARG SIG=SIGQUIT\nSTOPSIGNAL $SIG\n");
        Assert.Equal("SIGQUIT", ConfigOf(image).GetProperty("StopSignal").GetString());
    }

    [Fact]
    public async Task Healthcheck_options_are_in_nanoseconds()
    {
        var image = await BuildAsync("FROM scratch\nHEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --start-interval=2s --retries=4 CMD curl -f http://localhost/ || exit 1\n");
        var health = ConfigOf(image).GetProperty("Healthcheck");
        Assert.Equal(["CMD-SHELL", "curl -f http://localhost/ || exit 1"], Strings(health.GetProperty("Test")));
        Assert.Equal(300_000_000_000L, health.GetProperty("Interval").GetInt64());
        Assert.Equal(3_000_000_000L, health.GetProperty("Timeout").GetInt64());
        Assert.Equal(90_000_000_000L, health.GetProperty("StartPeriod").GetInt64());
        Assert.Equal(2_000_000_000L, health.GetProperty("StartInterval").GetInt64());
        Assert.Equal(4, health.GetProperty("Retries").GetInt32());
        Assert.Contains("HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/ || exit 1] Interval:5m0s Timeout:3s StartPeriod:1m30s StartInterval:2s Retries:4}", History(image));
    }

    [Fact]
    public async Task Healthcheck_none_disables_an_inherited_check()
    {
        var image = await BuildAsync("FROM busybox AS base\nHEALTHCHECK CMD [\"true\"]\nFROM base\nHEALTHCHECK NONE\n");
        Assert.Equal(["NONE"], Strings(ConfigOf(image).GetProperty("Healthcheck").GetProperty("Test")));
    }

    [Fact]
    public async Task A_new_entrypoint_drops_an_inherited_cmd_but_keeps_one_from_its_stage()
    {
        var inherited = await BuildAsync("FROM busybox AS base\nCMD [\"base-cmd\"]\nFROM base\nENTRYPOINT [\"/bin/echo\"]\n");
        Assert.False(ConfigOf(inherited).TryGetProperty("Cmd", out var cmd) && cmd.ValueKind == JsonValueKind.Array, "inherited CMD should be reset");
        Assert.Equal(["/bin/echo"], Strings(ConfigOf(inherited).GetProperty("Entrypoint")));

        var same = await BuildAsync("FROM busybox\nCMD [\"arg\"]\nENTRYPOINT exec /bin/echo\n");
        Assert.Equal(["arg"], Strings(ConfigOf(same).GetProperty("Cmd")));
        Assert.Equal(["/bin/sh", "-c", "exec /bin/echo"], Strings(ConfigOf(same).GetProperty("Entrypoint")));
    }

    [Fact]
    public async Task Onbuild_triggers_are_recorded_and_not_inherited_by_the_stage_that_runs_them()
    {
        var image = await BuildAsync("FROM busybox\nONBUILD RUN echo triggered > /triggered\nONBUILD ENV FROM_TRIGGER=1\n");
        Assert.Equal(["RUN echo triggered > /triggered", "ENV FROM_TRIGGER=1"], Strings(ConfigOf(image).GetProperty("OnBuild")));
        AssertAbsent(image, "triggered");
    }

    [Fact]
    public async Task Onbuild_triggers_of_a_base_image_run_first_and_in_order()
    {
        Write("payload.txt", "from context");
        var baseBuild = await Cli.RunAsync(["build", "--progress", "plain", "--build-context", $"busybox=oci-layout://{Busybox}", "-t", "onbuild-base:1", "-f", WriteDockerfile("base.Dockerfile",
            "FROM busybox\nONBUILD RUN echo one > /order\nONBUILD RUN echo two >> /order\nONBUILD COPY payload.txt /payload.txt\n"), Context.Path]);
        Assert.True(baseBuild.ExitCode == 0, baseBuild.Output);

        var image = await BuildAsync("FROM onbuild-base:1\nRUN echo three >> /order\n");
        AssertFile(image, "order", "one\ntwo\nthree\n");
        AssertFile(image, "payload.txt", "from context");
        Assert.False(ConfigOf(image).TryGetProperty("OnBuild", out var onbuild) && onbuild.ValueKind == JsonValueKind.Array && onbuild.GetArrayLength() > 0);
    }

    [Fact]
    public async Task History_reads_like_buildkits_and_marks_empty_layers()
    {
        Write("f", "f");
        var image = await BuildAsync("FROM busybox\nARG A=1\nENV E=2\nCOPY --chmod=600 f /f\nWORKDIR /w\nCMD [\"sh\", \"-c\", \"echo hi\"]\nEXPOSE 80\n");
        var history = image.Config.GetProperty("history").EnumerateArray().Skip(2).ToList(); // after the base image's own entries
        var createdBy = history.Select(h => h.GetProperty("created_by").GetString()).ToList();
        Assert.Equal(["ARG A=1", "ENV E=2", "COPY --chmod=600 f /f # buildkit", "WORKDIR /w", "CMD [\"sh\" \"-c\" \"echo hi\"]", "EXPOSE [80/tcp]"], createdBy);
        var empty = history.Select(h => h.TryGetProperty("empty_layer", out var e) && e.GetBoolean()).ToList();
        Assert.Equal([true, true, false, false, true, true], empty);
        Assert.All(history, h => Assert.Equal("buildkit.dockerfile.v0", h.GetProperty("comment").GetString()));
        var layers = image.Manifest.GetProperty("layers").GetArrayLength();
        Assert.Equal(image.Config.GetProperty("history").EnumerateArray().Count(h => !(h.TryGetProperty("empty_layer", out var e) && e.GetBoolean())), layers);
    }

    [Fact]
    public async Task Source_date_epoch_sets_created()
    {
        Cli.Environment["SOURCE_DATE_EPOCH"] = "1700000000";
        try
        {
            var image = await BuildAsync("FROM scratch\nENV X=1\n");
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), image.Config.GetProperty("created").GetDateTimeOffset());
            Assert.All(image.Config.GetProperty("history").EnumerateArray(), h => Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), h.GetProperty("created").GetDateTimeOffset()));
        }
        finally
        {
            Cli.Environment.Remove("SOURCE_DATE_EPOCH");
        }
    }

    [Fact]
    public async Task Arg_values_never_reach_env_labels_or_cmd()
    {
        var image = await BuildAsync("FROM busybox\nARG SECRET_TOKEN=hunter2\nRUN test \"$SECRET_TOKEN\" = hunter2\n", "--build-arg", "SECRET_TOKEN=hunter2");
        var config = ConfigOf(image).GetRawText();
        Assert.DoesNotContain("hunter2", config);
    }

    private string WriteDockerfile(string name, string text)
    {
        Write(name, text);
        return Context.Combine(name);
    }
}
