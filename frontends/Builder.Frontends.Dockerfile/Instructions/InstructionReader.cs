using System.Text.RegularExpressions;
using Builder.Frontends.Dockerfile.Parsing;

namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>
/// Turns AST nodes into typed instructions, checking what BuildKit checks at this stage: flag
/// names and kinds, argument counts, stage names, HEALTHCHECK durations, EXPOSE ports, ONBUILD
/// triggers, unknown instructions. Values that may hold variables are kept raw.
/// </summary>
internal sealed partial class InstructionReader(DockerfileSource source)
{
    private static readonly FlagSpec FromFlags = new(["platform"], [], []);
    private static readonly FlagSpec RunFlags = new(["network", "security"], [], ["mount"]);
    private static readonly FlagSpec CopyFlags = new(["from", "chown", "chmod"], ["link", "parents"], ["exclude"]);
    private static readonly FlagSpec AddFlags = new(["chown", "chmod", "checksum"], ["link", "keep-git-dir", "unpack"], ["exclude"]);
    private static readonly FlagSpec HealthcheckFlags = new(["interval", "timeout", "start-period", "start-interval", "retries"], [], []);
    private static readonly TimeSpan MinimumHealthcheckDuration = TimeSpan.FromMilliseconds(1);

    [GeneratedRegex("^[a-z][a-z0-9-_.]*$")]
    private static partial Regex StageNamePattern();

    [GeneratedRegex(@"^\s*ONBUILD\s*", RegexOptions.IgnoreCase)]
    private static partial Regex OnbuildPrefix();

    public Instruction Read(Node node)
    {
        var at = new NodeContext(node, source);
        return node.Value switch
        {
            "from" => ReadFrom(at),
            "run" => ReadRun(at),
            "cmd" => new CmdInstruction(at.Location, node.EndLine, node.Original, at.CommandLine(FlagSpec.None)),
            "entrypoint" => new EntrypointInstruction(at.Location, node.EndLine, node.Original, at.CommandLine(FlagSpec.None)),
            "label" => new LabelInstruction(at.Location, node.EndLine, node.Original, at.KeyValues("LABEL")),
            "env" => new EnvInstruction(at.Location, node.EndLine, node.Original, at.KeyValues("ENV")),
            "maintainer" => new MaintainerInstruction(at.Location, node.EndLine, node.Original, at.SingleArgument("MAINTAINER")),
            "user" => new UserInstruction(at.Location, node.EndLine, node.Original, at.SingleArgument("USER")),
            "workdir" => new WorkdirInstruction(at.Location, node.EndLine, node.Original, at.SingleArgument("WORKDIR")),
            "stopsignal" => new StopsignalInstruction(at.Location, node.EndLine, node.Original, at.SingleArgument("STOPSIGNAL")),
            "expose" => ReadExpose(at),
            "add" => ReadAdd(at),
            "copy" => ReadCopy(at),
            "volume" => ReadVolume(at),
            "arg" => ReadArg(at),
            "onbuild" => ReadOnbuild(at),
            "healthcheck" => ReadHealthcheck(at),
            "shell" => ReadShell(at),
            _ => throw at.Error(InstructionNames.UnknownMessage(node.Keyword)),
        };
    }

    private static FromInstruction ReadFrom(NodeContext at)
    {
        var args = at.Node.Args;
        var flags = at.Flags(FromFlags);
        string? stageName = null;
        if (args.Count == 3 && args[1].Equals("as", StringComparison.OrdinalIgnoreCase))
        {
            stageName = args[2].ToLowerInvariant();
            if (!StageNamePattern().IsMatch(stageName))
            {
                throw at.Error($"invalid name for build stage: \"{args[2]}\", name can't start with a number or contain symbols");
            }
        }
        else if (args.Count != 1)
        {
            throw at.Error("FROM requires either one or three arguments");
        }
        return new FromInstruction(at.Location, at.Node.EndLine, at.Node.Original, args[0], stageName, flags.String("platform"));
    }

    private static RunInstruction ReadRun(NodeContext at)
    {
        var flags = at.Flags(RunFlags);
        var command = at.CommandLine(FlagSpec.None, alreadyParsed: true);
        if (command.Args.Count == 0 && !command.IsExecForm)
        {
            throw at.Error("RUN requires at least one argument");
        }
        var network = flags.String("network");
        if (network is not null && !network.Contains('$') && network is not ("default" or "none" or "host"))
        {
            throw at.Error($"network mode \"{network}\" not supported");
        }
        var security = flags.String("security");
        if (security is not null && !security.Contains('$') && security is not ("sandbox" or "insecure"))
        {
            throw at.Error($"security mode \"{security}\" not supported");
        }
        return new RunInstruction(at.Location, at.Node.EndLine, at.Node.Original, command, at.Node.Heredocs,
            flags.List("mount"), network, security);
    }

    private static ExposeInstruction ReadExpose(NodeContext at)
    {
        at.Flags(FlagSpec.None);
        var ports = at.AtLeastOneArgument("EXPOSE");
        foreach (var port in ports)
        {
            if (PortSpec.Problem(port) is { } problem)
            {
                throw at.Error(problem);
            }
        }
        return new ExposeInstruction(at.Location, at.Node.EndLine, at.Node.Original, ports);
    }

    private static AddInstruction ReadAdd(NodeContext at)
    {
        var files = at.SourcesAndDestination("ADD");
        var flags = at.Flags(AddFlags);
        return new AddInstruction(at.Location, at.Node.EndLine, at.Node.Original, files,
            flags.String("chown"), flags.String("chmod"), flags.Bool("link") ?? false, flags.String("checksum"),
            flags.Bool("keep-git-dir"), flags.List("exclude"), flags.Bool("unpack"));
    }

    private static CopyInstruction ReadCopy(NodeContext at)
    {
        var files = at.SourcesAndDestination("COPY");
        var flags = at.Flags(CopyFlags);
        return new CopyInstruction(at.Location, at.Node.EndLine, at.Node.Original, files,
            flags.String("from"), flags.String("chown"), flags.String("chmod"), flags.Bool("link") ?? false,
            flags.Bool("parents") ?? false, flags.List("exclude"));
    }

    private static VolumeInstruction ReadVolume(NodeContext at)
    {
        at.Flags(FlagSpec.None);
        var paths = at.AtLeastOneArgument("VOLUME");
        if (paths.Any(p => p.Trim().Length == 0))
        {
            throw at.Error("VOLUME specified can not be an empty string");
        }
        return new VolumeInstruction(at.Location, at.Node.EndLine, at.Node.Original, paths);
    }

    private static ArgInstruction ReadArg(NodeContext at)
    {
        at.Flags(FlagSpec.None);
        var declarations = new List<ArgDeclaration>();
        foreach (var word in at.AtLeastOneArgument("ARG"))
        {
            var equals = word.IndexOf('=');
            var name = equals < 0 ? word : word[..equals];
            if (name.Length == 0)
            {
                throw at.Error("ARG names can not be blank");
            }
            declarations.Add(new ArgDeclaration(name, equals < 0 ? null : word[(equals + 1)..]));
        }
        return new ArgInstruction(at.Location, at.Node.EndLine, at.Node.Original, declarations);
    }

    private static OnbuildInstruction ReadOnbuild(NodeContext at)
    {
        at.Flags(FlagSpec.None);
        var trigger = at.Node.Trigger ?? throw at.Error("ONBUILD requires at least one argument");
        var name = trigger.Keyword.ToUpperInvariant();
        switch (name)
        {
            case "ONBUILD":
                throw at.Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
            case "FROM" or "MAINTAINER":
                throw at.Error($"{name} isn't allowed as an ONBUILD trigger");
        }
        var expression = OnbuildPrefix().Replace(at.Node.Original, "", 1);
        foreach (var heredoc in at.Node.Heredocs)
        {
            expression += "\n" + heredoc.Content + heredoc.Name;
        }
        return new OnbuildInstruction(at.Location, at.Node.EndLine, at.Node.Original, name, expression);
    }

    private static HealthcheckInstruction ReadHealthcheck(NodeContext at)
    {
        var node = at.Node;
        var type = at.AtLeastOneArgument("HEALTHCHECK")[0].ToUpperInvariant();
        var rest = node.Args.Skip(1).ToList();
        if (type == "NONE")
        {
            if (rest.Count != 0)
            {
                throw at.Error("HEALTHCHECK NONE takes no arguments");
            }
            return new HealthcheckInstruction(at.Location, node.EndLine, node.Original, true, ["NONE"], null, null, null, null, null);
        }
        var flags = at.Flags(HealthcheckFlags);
        if (type != "CMD")
        {
            throw at.Error($"Unknown type \"{type}\" in HEALTHCHECK (try CMD)");
        }
        if (rest.Count == 0)
        {
            throw at.Error("Missing command after HEALTHCHECK CMD");
        }
        IReadOnlyList<string> test = node.IsJson ? ["CMD", .. rest] : ["CMD-SHELL", .. rest];
        return new HealthcheckInstruction(at.Location, node.EndLine, node.Original, false, test,
            at.Duration(flags, "interval"), at.Duration(flags, "timeout"), at.Duration(flags, "start-period"),
            at.Duration(flags, "start-interval"), at.Retries(flags));
    }

    private static ShellInstruction ReadShell(NodeContext at)
    {
        at.Flags(FlagSpec.None);
        var shell = at.AtLeastOneArgument("SHELL");
        if (!at.Node.IsJson)
        {
            throw at.Error("SHELL requires the arguments to be in JSON form");
        }
        return new ShellInstruction(at.Location, at.Node.EndLine, at.Node.Original, shell);
    }

    /// <summary>One node being read: its location and the checks every instruction shares.</summary>
    private sealed class NodeContext(Node node, DockerfileSource source)
    {
        public Node Node => node;

        public Location Location => source.LocationOf(node.StartLine, node.Column);

        public DockerfileException Error(string message) => source.Error(message, node.StartLine, node.Column);

        private DockerfileException FlagError(string name, string message)
        {
            var flag = node.Flags.FirstOrDefault(f => f.Name == name);
            return flag is null ? Error(message) : source.Error(message, flag.Line, flag.Column);
        }

        public ParsedFlags Flags(FlagSpec spec) => spec.Parse(node, source);

        public IReadOnlyList<string> AtLeastOneArgument(string instruction) =>
            node.Args.Count > 0 ? node.Args : throw Error($"{instruction} requires at least one argument");

        public string SingleArgument(string instruction)
        {
            Flags(FlagSpec.None);
            return node.Args.Count == 1 ? node.Args[0] : throw Error($"{instruction} requires exactly one argument");
        }

        public CommandLine CommandLine(FlagSpec flags, bool alreadyParsed = false)
        {
            if (!alreadyParsed)
            {
                Flags(flags);
            }
            return new CommandLine(node.Args, node.IsJson);
        }

        /// <summary>ENV and LABEL arguments come as key, value, separator triples.</summary>
        public IReadOnlyList<KeyValue> KeyValues(string instruction)
        {
            Flags(FlagSpec.None);
            var args = AtLeastOneArgument(instruction);
            var pairs = new List<KeyValue>(args.Count / 3);
            for (var i = 0; i + 2 < args.Count; i += 3)
            {
                if (args[i].Length == 0)
                {
                    throw Error($"{instruction} names can not be blank");
                }
                pairs.Add(new KeyValue(args[i], args[i + 1]));
            }
            return pairs;
        }

        /// <summary>The last argument is the destination; heredoc markers among the sources are inline files.</summary>
        public SourcesAndDestination SourcesAndDestination(string instruction)
        {
            var args = node.Args;
            if (args.Count < 2)
            {
                throw Error($"{instruction} requires at least two arguments, but only one was provided. Destination could not be determined.");
            }
            var destination = args[^1];
            if (!node.IsJson && HeredocMarkers.TryParse(destination) is not null)
            {
                throw Error($"{instruction} cannot accept a heredoc as a destination");
            }
            var paths = new List<string>();
            var contents = new List<InlineSource>();
            foreach (var source in args.Take(args.Count - 1))
            {
                var marker = node.IsJson ? null : HeredocMarkers.TryParse(source);
                var heredoc = marker is null ? null : node.Heredocs.FirstOrDefault(h => h.Name == marker.Value.Name);
                if (heredoc is null)
                {
                    paths.Add(source);
                }
                else
                {
                    var content = heredoc.Chomp ? LeadingTabs().Replace(heredoc.Content, "") : heredoc.Content;
                    contents.Add(new InlineSource(heredoc.Name, content, heredoc.Expand));
                }
            }
            return new SourcesAndDestination(paths, contents, destination);
        }

        public TimeSpan? Duration(ParsedFlags flags, string name)
        {
            if (flags.String(name) is not { Length: > 0 } text)
            {
                return null;
            }
            TimeSpan duration;
            try
            {
                duration = GoDuration.Parse(text);
            }
            catch (FormatException e)
            {
                throw FlagError(name, e.Message);
            }
            if (duration != TimeSpan.Zero && duration < MinimumHealthcheckDuration)
            {
                throw FlagError(name, $"Interval \"{name}\" cannot be less than 1ms");
            }
            return duration;
        }

        public int? Retries(ParsedFlags flags)
        {
            if (flags.String("retries") is not { Length: > 0 } text)
            {
                return null;
            }
            if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign,
                    System.Globalization.CultureInfo.InvariantCulture, out var retries))
            {
                throw FlagError("retries", $"invalid value \"{text}\" for --retries: not an integer");
            }
            return retries >= 0 ? retries : throw FlagError("retries", $"--retries cannot be negative ({retries})");
        }
    }

    [GeneratedRegex(@"^\t+", RegexOptions.Multiline)]
    private static partial Regex LeadingTabs();
}
