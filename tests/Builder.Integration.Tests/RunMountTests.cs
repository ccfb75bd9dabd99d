using System.Text;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>One state root for the whole class: every test's builds share it, as a user's builds would.</summary>
public sealed class SharedStateRoot : IDisposable
{
    public TempDir State { get; } = new("builder-state");

    public void Dispose() => State.Dispose();
}

/// <summary>
/// RUN --mount through the real CLI and sandbox: caches that outlive builds but never reach an
/// image, secrets that reach nothing but the step, binds of stages and of the context, tmpfs,
/// SSH agent sockets, --network and --security.
/// </summary>
[Collection(BusyboxCollection.Name)]
public sealed class RunMountTests(BusyboxImage busybox, SharedStateRoot shared) : IClassFixture<SharedStateRoot>, IDisposable
{
    private readonly TempDir _context = new("builder-ctx");
    private readonly TempDir _out = new("builder-out");

    public void Dispose()
    {
        _context.Dispose();
        _out.Dispose();
    }

    private string State => shared.State.Path;

    private BuilderCli Cli() => new(State);

    private async Task<(CliResult Result, string Tar)> BuildAsync(params string[] extra) => await BuildAsync(Cli(), extra);

    private async Task<(CliResult Result, string Tar)> BuildAsync(BuilderCli cli, params string[] extra)
    {
        var tar = _out.Combine($"image-{Guid.NewGuid():N}.tar");
        var (result, _) = await cli.BuildOciAsync(_context.Path, tar, [.. busybox.BuildContextArgs, .. extra]);
        return (result, tar);
    }

    private async Task<OciArchive> BuildOkAsync(params string[] extra)
    {
        var (result, tar) = await BuildAsync(extra);
        Assert.True(result.ExitCode == 0, $"build failed ({result.ExitCode}):\n{result.Output}");
        return OciArchive.Load(tar);
    }

    private static string Unique() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_cache_mount_keeps_its_content_across_builds_and_no_cache_and_stays_out_of_the_image()
    {
        var id = Unique();
        _context.Write("Dockerfile", $"""
            FROM busybox
            ARG RUN_NO
            RUN --mount=type=cache,id={id},target=/root/.cache sh -c 'echo "run $RUN_NO" >> /root/.cache/log && wc -l < /root/.cache/log > /count'
            """);

        var first = await BuildOkAsync("--build-arg", "RUN_NO=1");
        Assert.Equal("1", first.FileText("count").Trim());
        var second = await BuildOkAsync("--build-arg", "RUN_NO=2");
        Assert.Equal("2", second.FileText("count").Trim());
        var uncached = await BuildOkAsync("--build-arg", "RUN_NO=2", "--no-cache");
        Assert.Equal("3", uncached.FileText("count").Trim());

        foreach (var image in new[] { first, second, uncached })
        {
            Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.Contains(".cache"));
            Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => Encoding.UTF8.GetString(e.Content).Contains("run 1"));
        }
        var log = Directory.EnumerateFiles(Path.Combine(State, "cachemounts"), "log", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(f).StartsWith("run 1\n", StringComparison.Ordinal));
        Assert.Equal("run 1\nrun 2\nrun 2\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task Cache_ids_and_sources_with_dot_dot_stay_inside_the_cache_root()
    {
        var marker = Unique();
        var escapes = new[] { "../../escape-" + marker, "/../../../../tmp/escape-" + marker, "..", "." };
        _context.Write("Dockerfile", "FROM busybox\n" + string.Join('\n', escapes.Select((id, i) =>
            $"RUN --mount=type=cache,id={id},target=/c{i} echo {marker} > /c{i}/file-{i}")) + "\n"
            + $"RUN --mount=type=cache,id=src-{marker},source=../../../..,target=/s echo {marker} > /s/from-source\n"
            + $"RUN --mount=type=cache,id=../../escape-{marker},target=/again cat /again/file-0 > /seen\n");

        var image = await BuildOkAsync();

        Assert.Equal(marker, image.FileText("seen").Trim()); // the same id finds the same cache again
        var cacheRoot = Path.GetFullPath(Path.Combine(State, "cachemounts")) + "/";
        var written = Directory.EnumerateFiles(State, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).StartsWith("file-", StringComparison.Ordinal) || f.EndsWith("/from-source", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Trim() == marker)
            .ToList();
        Assert.Equal(escapes.Length + 1, written.Count);
        Assert.All(written, f => Assert.StartsWith(cacheRoot, f));
        Assert.False(Path.Exists("/tmp/escape-" + marker));
        Assert.False(Path.Exists(Path.Combine(State, "escape-" + marker)));
        Assert.False(Path.Exists(Path.Combine(Path.GetDirectoryName(State)!, "escape-" + marker)));
        Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.Contains("file-") || e.Path.Contains("from-source"));
    }

    [Fact]
    public async Task A_cache_starts_from_its_from_source_and_with_the_owner_and_mode_asked()
    {
        var id = Unique();
        _context.Write("Dockerfile", $"""
            FROM busybox AS seed
            RUN mkdir -p /pkgs && echo seeded > /pkgs/index
            FROM busybox
            RUN --mount=type=cache,id={id}-s,target=/c,from=seed,source=/pkgs cat /c/index > /seeded
            RUN --mount=type=cache,id={id}-o,target=/o,uid=1000,gid=1000,mode=0700 stat -c '%u:%g %a' /o > /owner
            """);

        var image = await BuildOkAsync();

        Assert.Equal("seeded\n", image.FileText("seeded"));
        Assert.Equal("1000:1000 700\n", image.FileText("owner"));
    }

    [Fact]
    public async Task Locked_cache_users_take_turns_and_private_ones_get_their_own_directory()
    {
        // One build, two independent stages run in parallel over the same cache ids: the private
        // steps overlap (each sleeps while holding its directory), the locked steps must not.
        var id = Unique();
        _context.Write("Dockerfile", $"""
            FROM busybox AS a
            RUN --mount=type=cache,id={id}-p,target=/p,sharing=private sh -c 'touch /p/mine-a; sleep 2; ls /p > /seen-a'
            RUN --mount=type=cache,id={id}-l,target=/c,sharing=locked sh -c 'test ! -e /c/busy && touch /c/busy && sleep 1 && rm /c/busy && echo a >> /c/order'
            FROM busybox AS b
            RUN --mount=type=cache,id={id}-p,target=/p,sharing=private sh -c 'touch /p/mine-b; sleep 2; ls /p > /seen-b'
            RUN --mount=type=cache,id={id}-l,target=/c,sharing=locked sh -c 'test ! -e /c/busy && touch /c/busy && sleep 1 && rm /c/busy && echo b >> /c/order'
            FROM busybox
            COPY --from=a /seen-a /
            COPY --from=b /seen-b /
            """);

        var image = await BuildOkAsync();

        var seenA = image.FileText("seen-a");
        var seenB = image.FileText("seen-b");
        Assert.DoesNotContain("mine-b", seenA);
        Assert.DoesNotContain("mine-a", seenB);
    }

    [Fact]
    public async Task A_secret_reaches_only_its_step_never_the_image_the_state_root_or_the_output()
    {
        var secret = "s3cret-" + Unique();
        var secretFile = _out.Write("secret.txt", secret);
        _context.Write("Dockerfile", """
            FROM busybox
            RUN --mount=type=secret,id=token,required sh -c 'cp /run/secrets/token /tmp/copy && test -s /tmp/copy && rm /tmp/copy && wc -c < /run/secrets/token > /file-length'
            RUN --mount=type=secret,id=token,env=TOKEN sh -c 'test ! -e /run/secrets/token && echo ${#TOKEN} > /env-length'
            RUN --mount=type=secret,id=token,target=/etc/app/key,mode=0440,uid=1000,gid=1000 stat -c '%a %u:%g' /etc/app/key > /key-stat
            RUN --mount=type=secret,id=not-given sh -c 'test ! -e /run/secrets/not-given && echo optional-skipped > /optional'
            """);

        var (result, tar) = await BuildAsync("--secret", $"id=token,src={secretFile}");
        Assert.True(result.ExitCode == 0, result.Output);

        var image = OciArchive.Load(tar);
        Assert.Equal(secret.Length.ToString(), image.FileText("file-length").Trim());
        Assert.Equal(secret.Length.ToString(), image.FileText("env-length").Trim());
        Assert.Equal("440 1000:1000", image.FileText("key-stat").Trim());
        Assert.Equal("optional-skipped", image.FileText("optional").Trim());
        Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.StartsWith("run/secrets") || e.Path.StartsWith("etc/app/key") || e.Path == "tmp/copy");

        var needle = Encoding.UTF8.GetBytes(secret);
        Assert.DoesNotContain(secret, result.Output);
        Assert.False(ContainsBytes(File.ReadAllBytes(tar), needle), "the secret is in the exported image tar");
        // Every file of the state root: blobs, snapshots, the database and its journal, leftovers.
        var grep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("grep", ["-rlF", "-D", "skip", "--", secret, State]) { RedirectStandardOutput = true })!;
        var leaks = (await grep.StandardOutput.ReadToEndAsync()).Trim();
        await grep.WaitForExitAsync();
        Assert.Empty(leaks);
    }

    [Fact]
    public async Task A_secret_from_the_environment_is_mounted_as_a_file()
    {
        var secret = "env-secret-" + Unique();
        _context.Write("Dockerfile", "FROM busybox\nRUN --mount=type=secret,id=api,required sh -c 'wc -c < /run/secrets/api > /len'\n");
        var cli = Cli();
        cli.Environment["API_TOKEN_FOR_TEST"] = secret;
        var (result, tar) = await BuildAsync(cli, "--secret", "id=api,env=API_TOKEN_FOR_TEST");
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(secret.Length.ToString(), OciArchive.Load(tar).FileText("len").Trim());
    }

    [Fact]
    public async Task A_missing_required_secret_fails_the_step_and_says_which()
    {
        _context.Write("Dockerfile", $"FROM busybox\nRUN --mount=type=secret,id=absent-{Unique()[..8]},required cat /run/secrets/*\n");
        var (result, _) = await BuildAsync();
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("secret absent-", result.Output);
        Assert.Contains("not found", result.Output);
        Assert.Contains("Dockerfile:2", result.Output);
    }

    [Fact]
    public async Task Binds_of_a_stage_and_of_the_context_are_read_only_unless_rw_and_rw_writes_are_discarded()
    {
        _context.Write("data/input.txt", "from the context\n");
        _context.Write("Dockerfile", $"""
            FROM busybox AS tools
            RUN mkdir /out && echo "from a stage" > /out/made.txt
            FROM busybox
            RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools cp /mnt/tools/made.txt /stage.txt
            RUN --mount=type=bind,source=data,target=/mnt/ctx cp /mnt/ctx/input.txt /context.txt
            RUN --mount=type=bind,source=data,target=/mnt/ctx sh -c 'if touch /mnt/ctx/new 2>/dev/null; then echo writable; else echo read-only; fi > /ro.txt'
            RUN --mount=type=bind,from=tools,target=/mnt/tools sh -c 'if echo x > /mnt/tools/out/made.txt 2>/dev/null; then echo writable; else echo read-only; fi > /ro-stage.txt'
            RUN --mount=type=bind,source=data,target=/mnt/ctx,rw sh -c 'echo changed > /mnt/ctx/input.txt && touch /mnt/ctx/new && cat /mnt/ctx/input.txt > /rw.txt'
            RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools,rw sh -c 'rm /mnt/tools/made.txt && echo ok > /rw-stage.txt'
            RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools cat /mnt/tools/made.txt > /after.txt
            """);

        var image = await BuildOkAsync();

        Assert.Equal("from a stage\n", image.FileText("stage.txt"));
        Assert.Equal("from the context\n", image.FileText("context.txt"));
        Assert.Equal("read-only\n", image.FileText("ro.txt"));
        Assert.Equal("read-only\n", image.FileText("ro-stage.txt"));
        Assert.Equal("changed\n", image.FileText("rw.txt"));
        Assert.Equal("from a stage\n", image.FileText("after.txt"));
        Assert.Equal("from the context\n", File.ReadAllText(_context.Combine("data", "input.txt")));
        Assert.False(File.Exists(_context.Combine("data", "new")));
        Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.StartsWith("mnt/"));
        Assert.Empty(SystemState.MountsUnder(State));
    }

    [Fact]
    public async Task A_bind_of_the_context_is_keyed_by_the_bound_files_only()
    {
        _context.Write("bound/a.txt", "a\n");
        _context.Write("other.txt", "1\n");
        _context.Write("Dockerfile", $"FROM busybox\nRUN --mount=type=bind,source=bound,target=/b sh -c 'cat /b/a.txt; echo ran-{Unique()}'\n");
        // The step's own output line ("#7 0.123 ran-…"), not its name, which shows the command.
        var ran = new System.Text.RegularExpressions.Regex(@"#\d+ \d+\.\d+ ran-");
        var first = await BuildAsync();
        Assert.Matches(ran, first.Result.Output);

        _context.Write("other.txt", "2\n");
        var unrelated = await BuildAsync();
        Assert.Equal(0, unrelated.Result.ExitCode);
        Assert.DoesNotMatch(ran, unrelated.Result.Output);

        _context.Write("bound/a.txt", "changed\n");
        var related = await BuildAsync();
        Assert.Matches(ran, related.Result.Output);
    }

    [Fact]
    public async Task Tmpfs_network_none_and_ssh_mounts_reach_the_step()
    {
        var agent = _out.Combine("agent.sock");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(agent));
        listener.Listen(1);

        _context.Write("Dockerfile", $"""
            FROM busybox
            RUN --mount=type=tmpfs,target=/scratch,size=2m sh -c 'df -k /scratch | tail -1 | tr -s " " | cut -d " " -f 2 > /tmpfs-size && echo x > /scratch/x'
            RUN --network=none sh -c 'grep -c : /proc/net/dev > /interfaces'
            RUN --mount=type=ssh,uid=1000,mode=0660 sh -c 'test -S "$SSH_AUTH_SOCK" && stat -c "%u %a" "$SSH_AUTH_SOCK" > /ssh && echo "$SSH_AUTH_SOCK" >> /ssh'
            RUN --mount=type=ssh,id=deploy,target=/run/deploy.sock,required test -S /run/deploy.sock
            RUN echo {Unique()} > /bust
            """);

        var image = await BuildOkAsync("--ssh", $"default={agent}", "--ssh", $"deploy={agent}");

        Assert.Equal("2048", image.FileText("tmpfs-size").Trim());
        Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.StartsWith("scratch"));
        Assert.Equal("1", image.FileText("interfaces").Trim()); // loopback only
        Assert.Equal("1000 660\n/run/buildkit/ssh_agent.0\n", image.FileText("ssh"));
        Assert.False(image.Flatten().ContainsKey("run/buildkit/ssh_agent.0"));
    }

    [Fact]
    public async Task A_required_ssh_agent_that_is_not_forwarded_fails()
    {
        _context.Write("Dockerfile", $"FROM busybox\nRUN --mount=type=ssh,required echo {Unique()}\n");
        var (result, _) = await BuildAsync();
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no SSH key \"default\"", result.Output);
    }

    [Fact]
    public async Task Security_insecure_needs_the_entitlement()
    {
        _context.Write("Dockerfile", $"FROM busybox\nRUN --security=insecure sh -c 'grep CapEff /proc/self/status > /caps; echo {Unique()}'\n");
        var (denied, _) = await BuildAsync();
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("--allow security.insecure", denied.Output);

        var image = await BuildOkAsync("--allow", "security.insecure");
        var caps = Convert.ToUInt64(image.FileText("caps").Split(':')[1].Trim(), 16);
        Assert.True((caps & (1UL << 21)) != 0, $"CAP_SYS_ADMIN missing: {caps:x}"); // the default set has no SYS_ADMIN
    }

    private static bool ContainsBytes(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
