using System.Collections.Immutable;
using Builder.Core.Graph;
using Builder.Frontends.Dockerfile.Instructions;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>RUN: its command (heredocs included), mounts, network and security mode → one exec vertex.</summary>
internal sealed partial class StageConverter
{
    private void Run(RunInstruction run)
    {
        if (run.Mounts.Count > 0) throw Error(run, "RUN --mount is not supported yet");
        if (run.Heredocs.Count > 0) throw Error(run, "RUN with a heredoc is not supported yet");
        if (run.Security is { } security && security != "sandbox") throw Error(run, $"RUN --security={security} needs the security.insecure entitlement, which builder does not grant");

        var network = ExpandOptional(run.Network, run) ?? "default";
        if (network is not ("default" or "none" or "host")) throw Error(run, $"invalid RUN --network \"{network}\": expected default, none or host");

        var args = run.Command.IsExecForm ? run.Command.Args : [.. Shell, string.Join(' ', run.Command.Args)];
        if (args.Count == 0) throw Error(run, "RUN needs a command");
        var runArgs = _scope.ArgsForRun(Env);
        var env = WithDefaultPath(Env).Concat(runArgs.Select(a => $"{a.Key}={a.Value}"));

        var meta = new ExecMeta([.. args], [.. env], WorkingDir, _config.Config.User ?? "", network);
        var rootMount = new ExecMountSpec("/", _fs is null ? -1 : 0);
        var step = NextStep($"RUN {string.Join(' ', run.Command.Args)}");
        _fs = new Vertex(new ExecOp(meta, [rootMount]), _fs is null ? [] : [_fs], step, Location(run));

        // BuildKit's history form: build args in scope are listed as "|N K=V" before the command.
        var argsPrefix = runArgs.Count > 0 ? $"|{runArgs.Count} {string.Join(' ', runArgs.Select(a => $"{a.Key}={a.Value}"))} " : "";
        AddHistory($"RUN {argsPrefix}{string.Join(' ', args)} # buildkit", emptyLayer: false);
    }
}
