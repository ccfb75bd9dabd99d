using System.Collections.Immutable;
using System.Globalization;
using Builder.Core.Graph;
using Builder.Frontends.Dockerfile.Instructions;
using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>RUN: its command (heredocs included), mounts, network and security mode → one exec vertex.</summary>
internal sealed partial class StageConverter
{
    private async Task RunAsync(RunInstruction run, CancellationToken ct)
    {
        EnsureRunnablePlatform(run);
        var security = ExpandOptional(run.Security, run) ?? "sandbox";
        if (security is not ("sandbox" or "insecure")) throw Error(run, $"security mode \"{security}\" not supported");

        var network = ExpandOptional(run.Network, run) ?? "default";
        if (network is not ("default" or "none" or "host")) throw Error(run, $"invalid RUN --network \"{network}\": expected default, none or host");

        // Input 0 is the stage's filesystem (when it has one); mounts add theirs after it, each vertex once.
        var inputs = new List<Vertex>();
        if (_fs is not null) inputs.Add(_fs);
        int InputOf(Vertex vertex)
        {
            var index = inputs.IndexOf(vertex);
            if (index >= 0) return index;
            inputs.Add(vertex);
            return inputs.Count - 1;
        }

        var mounts = new List<ExecMountSpec> { new("/", _fs is null ? -1 : 0) };
        var (command, summary, script) = HeredocCommand(run);
        if (script is not null)
            mounts.Add(new ExecMountSpec(HeredocScriptDir, InputOf(script), "/", ReadOnly: true));

        var args = run.Command.IsExecForm ? run.Command.Args : [.. Shell, command];
        if (args.Count == 0) throw Error(run, "RUN needs a command");

        var sshSocket = (string?)null;
        foreach (var flag in run.Mounts)
        {
            var mount = ParseMount(flag, run);
            var spec = await MountSpecAsync(mount, mounts.Count(m => m.Type == "ssh"), InputOf, run, ct).ConfigureAwait(false);
            if (mounts.Any(m => m.Target == spec.Target && spec.Target.Length > 0)) throw Error(run, $"mount target {spec.Target} is used twice");
            if (spec.Type == "ssh") sshSocket ??= spec.Target;
            mounts.Add(spec);
        }

        var runArgs = _scope.ArgsForRun(Env);
        var env = WithDefaultPath(Env).Concat(runArgs.Select(a => $"{a.Key}={a.Value}"));
        if (sshSocket is not null) env = env.Where(e => !e.StartsWith("SSH_AUTH_SOCK=", StringComparison.Ordinal)).Append($"SSH_AUTH_SOCK={sshSocket}");

        var meta = new ExecMeta([.. args], [.. env], WorkingDir, _config.Config.User ?? "", network, security);
        var step = NextStep($"RUN {string.Join(' ', run.Command.Args)}{summary}");
        _fs = new Vertex(new ExecOp(meta, [.. mounts]), [.. inputs], step, Location(run));

        // BuildKit's history form: build args in scope are listed as "|N K=V" before the command.
        var argsPrefix = runArgs.Count > 0 ? $"|{runArgs.Count} {string.Join(' ', runArgs.Select(a => $"{a.Key}={a.Value}"))} " : "";
        AddHistory($"RUN {argsPrefix}{string.Join(' ', args)} # buildkit", emptyLayer: false);
    }

    private RunMount ParseMount(string flag, RunInstruction run)
    {
        try { return RunMount.Parse(flag, value => Expand(value, run)); }
        catch (FormatException e) { throw Error(run, e.Message); }
    }

    /// <summary>One parsed mount as the exec op's mount spec, with the vertex it reads (if any) added to the inputs.</summary>
    private async Task<ExecMountSpec> MountSpecAsync(RunMount mount, int sshIndex, Func<Vertex, int> inputOf, RunInstruction run, CancellationToken ct)
    {
        switch (mount.Type)
        {
            case "secret":
            {
                // BuildKit: the id is "id", or "source"; failing both, the target's file name.
                var id = mount.Source.Length > 0 ? mount.Source : mount.Id;
                if (id.Length == 0) id = BaseName(mount.Target);
                var target = mount.Env is null && mount.Target.Length == 0 ? "/run/secrets/" + BaseName(id) : mount.Target;
                var secret = new SecretMountOptions(id, mount.Required, mount.Env, mount.Uid ?? 0, mount.Gid ?? 0, mount.Mode ?? 0x100);
                return new ExecMountSpec(target.Length > 0 ? MountTarget(target, run) : "", -1, ReadOnly: true, Type: "secret", Secret: secret);
            }
            case "ssh":
            {
                var target = mount.Target.Length > 0 ? mount.Target : $"/run/buildkit/ssh_agent.{sshIndex.ToString(CultureInfo.InvariantCulture)}";
                var ssh = new SshMountOptions(mount.Id.Length > 0 ? mount.Id : "default", mount.Required, mount.Uid ?? 0, mount.Gid ?? 0, mount.Mode ?? 0x180);
                return new ExecMountSpec(MountTarget(target, run), -1, ReadOnly: true, Type: "ssh", Ssh: ssh);
            }
            case "tmpfs":
                return new ExecMountSpec(MountTarget(mount.Target, run), -1, Type: "tmpfs", Tmpfs: new TmpfsMountOptions(mount.SizeLimit));
            case "cache":
            {
                var input = mount.From.Length > 0 ? inputOf(await MountSourceAsync(mount.From, run, ct).ConfigureAwait(false)) : -1;
                var id = mount.Id.Length > 0 ? mount.Id : CleanRelative(mount.Target);
                var cache = new CacheMountOptions(id, mount.Sharing.Length > 0 ? mount.Sharing : "shared", mount.Uid ?? 0, mount.Gid ?? 0, mount.Mode ?? 0x1ED);
                return new ExecMountSpec(MountTarget(mount.Target, run), input, Selector(mount.Source), mount.ReadOnly, "cache", Cache: cache);
            }
            default:
            {
                var source = mount.From.Length > 0 ? await MountSourceAsync(mount.From, run, ct).ConfigureAwait(false) : _build.Context;
                return new ExecMountSpec(MountTarget(mount.Target, run), inputOf(source), Selector(mount.Source), mount.ReadOnly, "bind");
            }
        }
    }

    /// <summary><c>from=</c>: an earlier stage, a named context, or an image — as COPY --from finds them.</summary>
    private async Task<Vertex> MountSourceAsync(string from, RunInstruction run, CancellationToken ct) =>
        (await CopySourceAsync(from, run, ct).ConfigureAwait(false)).Source;

    /// <summary>An absolute, clean mount target (relative ones are under WORKDIR); never the root itself.</summary>
    private string MountTarget(string target, RunInstruction run)
    {
        if (target.Length == 0) throw Error(run, "mount target is required");
        var path = CleanPath(ResolveAgainstWorkdir(target));
        return path == "/" ? throw Error(run, $"invalid mount target \"{target}\"") : path;
    }

    private static string Selector(string source) => CleanPath("/" + source) is var path && path != "/" ? path : "";

    private static string CleanRelative(string path) => path.StartsWith('/') ? CleanPath(path) : CleanPath("/" + path)[1..] is { Length: > 0 } p ? p : ".";

    private static string BaseName(string path) => path.TrimEnd('/').Split('/')[^1];

    // ---- heredocs ---------------------------------------------------------------------------

    /// <summary>Where a RUN's shebang heredoc is mounted as an executable file (BuildKit's place).</summary>
    private const string HeredocScriptDir = "/dev/pipes";

    /// <summary>
    /// The command text the shell gets, BuildKit's way. A RUN that is only <c>&lt;&lt;EOF</c> runs the
    /// body: as a script file when it starts with <c>#!</c>, else as the shell's command string. Any
    /// other RUN with heredocs is given to the shell whole — line, then each body and terminator — so
    /// the shell itself does the redirections (<c>cat &lt;&lt;A &gt; /a</c>, <c>&lt;&lt;-</c>, quoting).
    /// The builder expands nothing in RUN heredocs; the shell does, with the step's environment.
    /// </summary>
    private (string Command, string Summary, Vertex? Script) HeredocCommand(RunInstruction run)
    {
        var line = string.Join(' ', run.Command.Args);
        if (run.Heredocs.Count == 0 || run.Command.IsExecForm) return (line, "", null);

        if (run.Heredocs.Count == 1 && HeredocMarkers.TryParse(line.Trim()) is not null)
        {
            var heredoc = run.Heredocs[0];
            var body = heredoc.Chomp ? LeadingTabs(heredoc.Content) : heredoc.Content;
            var summary = $" ({Summarize(heredoc.Content)})";
            if (!body.StartsWith("#!", StringComparison.Ordinal)) return (body, summary, null);

            var file = new MkfileAction("/" + heredoc.Name, 0x1ED /* 0755 */, body);
            var script = new Vertex(new FileOp(-1, [file]), [], "[internal] preparing inline document", Location(run));
            return ($"{HeredocScriptDir}/{heredoc.Name}", summary, script);
        }

        var text = new System.Text.StringBuilder(line);
        foreach (var heredoc in run.Heredocs)
            text.Append('\n').Append(heredoc.Content).Append(heredoc.Name);
        return (text.ToString(), "", null);
    }

    /// <summary>The first line of a heredoc body, "..." when there are more (BuildKit's progress label).</summary>
    private static string Summarize(string body)
    {
        var lines = body.Trim().Replace("\r\n", "\n").Split('\n');
        return lines.Length > 1 ? lines[0] + "..." : lines[0];
    }

    private static string LeadingTabs(string content) =>
        string.Join('\n', content.Split('\n').Select(l => l.TrimStart('\t')));

    /// <summary>
    /// <c>COPY &lt;&lt;EOF /dest</c> (and ADD): each heredoc becomes a file in a scratch filesystem
    /// (MkfileAction, mode 0644), copied to the destination with the instruction's --chown/--chmod —
    /// the shape BuildKit gives it, so "into a directory" versus "as this file" follows COPY's own rule.
    /// Bodies are expanded with ARG/ENV unless the delimiter was quoted; quotes in them are kept.
    /// </summary>
    private void CopyInline(Instruction at, string name, SourcesAndDestination files, string? chown, string? chmod)
    {
        if (files.SourcePaths.Count > 0) throw Error(at, $"{name} with both heredocs and paths as sources is not supported yet");

        var destination = Expand(files.Destination, at);
        var dest = DestinationPath(destination);
        if (files.SourceContents.Count > 1 && !dest.EndsWith('/'))
            throw Error(at, $"When using {name} with more than one source file, the destination must be a directory and end with a /");

        var lexer = new Shell.ShellLexer('\\') { SkipProcessQuotes = true };
        var mkfiles = new List<FileAction>();
        foreach (var content in files.SourceContents)
        {
            string data;
            try { data = content.Expand ? lexer.ProcessWord(content.Content, ExpansionEnv) : content.Content; }
            catch (Shell.ShellExpansionException e) { throw Error(at, e.Message); }
            mkfiles.Add(new MkfileAction("/" + content.Path, 0x1A4 /* 0644 */, data));
        }
        var documents = new Vertex(new FileOp(-1, [.. mkfiles]), [], "[internal] preparing inline document", Location(at));

        var expandedChown = ExpandOptional(chown, at);
        var expandedChmod = ExpandOptional(chmod, at);
        var options = new CopyOptions(
            Chown: expandedChown is null ? new Owner("0", "0") : ParseOwner(expandedChown, at),
            Mode: expandedChmod is null ? null : ParseMode(expandedChmod, at),
            AllowWildcard: false,
            AllowEmptyWildcard: false,
            CreateDestPath: true,
            Excludes: []);
        var baseIndex = _fs is null ? -1 : 0;
        var sourceIndex = _fs is null ? 0 : 1;
        var actions = files.SourceContents.Select(c => (FileAction)new CopyAction(sourceIndex, "/" + c.Path, dest, options)).ToImmutableArray();
        ImmutableArray<Vertex> inputs = _fs is null ? [documents] : [_fs, documents];

        var flags = (chown is null ? "" : $" --chown={expandedChown}") + (chmod is null ? "" : $" --chmod={expandedChmod}");
        var sources = string.Join(' ', files.SourceContents.Select(c => "<<" + c.Path));
        var step = NextStep($"{name}{flags} {sources} {destination}");
        _fs = new Vertex(new FileOp(baseIndex, actions), inputs, step, Location(at));
        AddHistory($"{name}{flags} {sources} {destination} # buildkit", emptyLayer: false);
    }
}
