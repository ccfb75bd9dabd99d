using Builder.Frontends.Dockerfile.Instructions;
using DockerfileModel = Builder.Frontends.Dockerfile.Instructions.Dockerfile;

namespace Builder.Frontends.Dockerfile.Tests.Instructions;

public sealed class InstructionValidationTests
{
    private static DockerfileException Rejects(string text) =>
        Assert.Throws<DockerfileException>(() => DockerfileModel.Parse(text));

    [Theory]
    // unknown instructions and flags
    [InlineData("FROM a\nRUNN make\n", "unknown instruction: RUNN (did you mean RUN?)")]
    [InlineData("FROM a\nfrobnicate x\n", "unknown instruction: frobnicate")]
    [InlineData("FROM --plaform=x a\n", "unknown flag: plaform")]
    [InlineData("FROM a\nRUN --mnt=type=cache make\n", "unknown flag: mnt")]
    [InlineData("FROM a\nCOPY --checksum=sha256:x a b\n", "unknown flag: checksum")]
    [InlineData("FROM a\nADD --from=x a b\n", "unknown flag: from")]
    [InlineData("FROM a\nCMD --x echo\n", "unknown flag: x")]
    [InlineData("FROM a\nCOPY --from=a --from=b x y\n", "duplicate flag specified: from")]
    [InlineData("FROM a\nCOPY --chown x y\n", "missing a value on flag: chown")]
    [InlineData("FROM a\nCOPY --link=maybe x y\n", "expecting boolean value for flag link, not: maybe")]
    [InlineData("FROM a\nRUN --network=bridge make\n", "network mode \"bridge\" not supported")]
    // argument counts and shapes
    [InlineData("FROM a\nENV\n", "ENV requires at least one argument")]
    [InlineData("FROM a\nLABEL\n", "LABEL requires at least one argument")]
    [InlineData("FROM a\nCOPY onlyone\n", "COPY requires at least two arguments, but only one was provided. Destination could not be determined.")]
    [InlineData("FROM a\nADD onlyone\n", "ADD requires at least two arguments")]
    [InlineData("FROM a\nCOPY x <<EOF\nhi\nEOF\n", "COPY cannot accept a heredoc as a destination")]
    [InlineData("FROM a\nUSER\n", "USER requires exactly one argument")]
    [InlineData("FROM a\nWORKDIR\n", "WORKDIR requires exactly one argument")]
    [InlineData("FROM a\nSTOPSIGNAL\n", "STOPSIGNAL requires exactly one argument")]
    [InlineData("FROM a\nMAINTAINER\n", "MAINTAINER requires exactly one argument")]
    [InlineData("FROM a\nVOLUME\n", "VOLUME requires at least one argument")]
    [InlineData("FROM a\nVOLUME [\"\"]\n", "VOLUME specified can not be an empty string")]
    [InlineData("FROM a\nARG =x\n", "ARG names can not be blank")]
    [InlineData("FROM a\nSHELL /bin/sh -c\n", "SHELL requires the arguments to be in JSON form")]
    [InlineData("FROM a\nRUN\n", "RUN requires at least one argument")]
    // FROM and stages
    [InlineData("FROM\n", "FROM requires either one or three arguments")]
    [InlineData("FROM a b\n", "FROM requires either one or three arguments")]
    [InlineData("FROM a AT b\n", "FROM requires either one or three arguments")]
    [InlineData("FROM a AS 1st\n", "invalid name for build stage: \"1st\", name can't start with a number or contain symbols")]
    [InlineData("FROM a AS b$c\n", "invalid name for build stage")]
    [InlineData("FROM a AS b\nFROM c AS B\n", "duplicate stage name \"b\"")]
    [InlineData("RUN make\nFROM a\n", "no build stage in current context")]
    // ONBUILD
    [InlineData("FROM a\nONBUILD\n", "ONBUILD requires at least one argument")]
    [InlineData("FROM a\nONBUILD ONBUILD RUN x\n", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    [InlineData("FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger")]
    [InlineData("FROM a\nONBUILD maintainer me\n", "MAINTAINER isn't allowed as an ONBUILD trigger")]
    // HEALTHCHECK
    [InlineData("FROM a\nHEALTHCHECK\n", "HEALTHCHECK requires at least one argument")]
    [InlineData("FROM a\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments")]
    [InlineData("FROM a\nHEALTHCHECK CONNECT TCP 7000\n", "Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)")]
    [InlineData("FROM a\nHEALTHCHECK CMD\n", "Missing command after HEALTHCHECK CMD")]
    [InlineData("FROM a\nHEALTHCHECK --interval=5 CMD x\n", "time: missing unit in duration \"5\"")]
    [InlineData("FROM a\nHEALTHCHECK --timeout=5d CMD x\n", "time: unknown unit \"d\" in duration \"5d\"")]
    [InlineData("FROM a\nHEALTHCHECK --timeout=soon CMD x\n", "time: invalid duration \"soon\"")]
    [InlineData("FROM a\nHEALTHCHECK --interval=500us CMD x\n", "Interval \"interval\" cannot be less than 1ms")]
    [InlineData("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "--retries cannot be negative (-1)")]
    [InlineData("FROM a\nHEALTHCHECK --retries=x CMD x\n", "invalid value \"x\" for --retries")]
    [InlineData("FROM a\nHEALTHCHECK --start-intervall=1s CMD x\n", "unknown flag: start-intervall")]
    // EXPOSE
    [InlineData("FROM a\nEXPOSE\n", "EXPOSE requires at least one argument")]
    [InlineData("FROM a\nEXPOSE http\n", "invalid containerPort: http")]
    [InlineData("FROM a\nEXPOSE 80/icmp\n", "invalid proto: icmp")]
    [InlineData("FROM a\nEXPOSE 70000\n", "invalid containerPort: 70000")]
    [InlineData("FROM a\nEXPOSE 8010-8000\n", "invalid range specified for containerPort: 8010-8000")]
    public void Rejects_with_buildkit_message(string text, string message) =>
        Assert.Contains(message, Rejects(text).Message);

    [Fact]
    public void A_flag_error_points_at_the_flag()
    {
        var e = Rejects("FROM a\nCOPY \\\n   --nope=1 y z\n");
        Assert.Equal((3, 4), (e.Location.Line, e.Location.Column));
    }

    [Fact]
    public void Builds_stages_with_meta_args_names_platforms_and_raw_values()
    {
        var dockerfile = DockerfileModel.Parse("""
            ARG BASE=alpine
            FROM --platform=$BUILDPLATFORM ${BASE} AS Build
            ENV A=1 B="two words"
            COPY --from=build --chown=1:1 --link --exclude=*.md <<cfg a /dst/
            x=$A
            cfg
            RUN --mount=type=cache,target=/c --mount=type=secret,id=s make
            FROM scratch
            HEALTHCHECK --interval=1m30s --timeout=0s --retries=3 CMD ["check"]
            EXPOSE 80 8000-8010/udp ${PORT}/tcp
            ONBUILD RUN echo hi
            """);
        var meta = Assert.Single(dockerfile.MetaArgs);
        Assert.Equal([new ArgDeclaration("BASE", "alpine")], meta.Args);
        Assert.Equal(2, dockerfile.Stages.Count);

        var build = dockerfile.Stages[0];
        Assert.Equal(("build", "${BASE}", "$BUILDPLATFORM", 0), (build.Name, build.BaseName, build.Platform, build.Index));
        var env = Assert.IsType<EnvInstruction>(build.Instructions[0]);
        Assert.Equal([new KeyValue("A", "1"), new KeyValue("B", "\"two words\"")], env.Variables);
        var copy = Assert.IsType<CopyInstruction>(build.Instructions[1]);
        Assert.Equal(("build", "1:1", true), (copy.From, copy.Chown, copy.Link));
        Assert.Equal(["*.md"], copy.Excludes);
        Assert.Equal(["a"], copy.Files.SourcePaths);
        Assert.Equal([new InlineSource("cfg", "x=$A\n", true)], copy.Files.SourceContents);
        Assert.Equal((4, 6), (copy.Location.Line, copy.EndLine));
        var run = Assert.IsType<RunInstruction>(build.Instructions[2]);
        Assert.Equal(2, run.Mounts.Count);
        Assert.Equal(["make"], run.Command.Args);
        Assert.False(run.Command.IsExecForm);

        var final = dockerfile.Stages[1];
        Assert.Null(final.Name);
        var health = Assert.IsType<HealthcheckInstruction>(final.Instructions[0]);
        Assert.Equal(["CMD", "check"], health.Test);
        Assert.Equal((TimeSpan.FromSeconds(90), TimeSpan.Zero, 3), (health.Interval!.Value, health.Timeout!.Value, health.Retries!.Value));
        Assert.Equal(["80", "8000-8010/udp", "${PORT}/tcp"], Assert.IsType<ExposeInstruction>(final.Instructions[1]).Ports);
        var onbuild = Assert.IsType<OnbuildInstruction>(final.Instructions[2]);
        Assert.Equal(("RUN", "RUN echo hi"), (onbuild.TriggerName, onbuild.Expression));
    }

    [Fact]
    public void Healthcheck_shell_form_uses_cmd_shell()
    {
        var health = (HealthcheckInstruction)DockerfileModel.Parse("FROM a\nHEALTHCHECK CMD curl -f x\n").Stages[0].Instructions[0];
        Assert.Equal(["CMD-SHELL", "curl -f x"], health.Test);
        Assert.Null(health.Interval);
    }

    [Fact]
    public void Every_buildkit_testfile_that_buildkit_accepts_builds_a_model()
    {
        // health (CONNECT), flags (--user, --doit) and ADD-COPY (no FROM issue) are meant to fail only at this level.
        string[] invalidOnPurpose = ["health", "flags", "jeztah-invalid-json-json-inside-string",
            "jeztah-invalid-json-json-inside-string-double", "jeztah-invalid-json-single-quotes",
            "jeztah-invalid-json-unterminated-bracket", "jeztah-invalid-json-unterminated-string", "json"];
        foreach (var dir in Directory.GetDirectories(ConformanceData.ParserDir("testfiles")))
        {
            if (invalidOnPurpose.Contains(Path.GetFileName(dir)))
            {
                continue;
            }
            var model = DockerfileModel.Parse(File.ReadAllText(Path.Combine(dir, "Dockerfile")));
            Assert.NotEmpty(model.Stages);
        }
    }
}
