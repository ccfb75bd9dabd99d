using System.Collections.Immutable;
using System.Globalization;
using Builder.Core.Graph;
using Builder.Frontends.Dockerfile.Instructions;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>The instructions that change the filesystem: each adds one vertex over the stage's current one.</summary>
internal sealed partial class StageConverter
{
    private async Task CopyAsync(CopyInstruction copy, CancellationToken ct)
    {
        if (copy.Files.SourceContents.Count > 0)
        {
            CopyInline(copy, "COPY", copy.Files, copy.Chown, copy.Chmod);
            return;
        }
        if (copy.Parents) throw Error(copy, "COPY --parents is not supported yet");
        if (copy.Excludes.Count > 0) throw Error(copy, "COPY --exclude is not supported yet");

        var from = ExpandOptional(copy.From, copy);
        var (source, fromContext) = from is null ? (_build.Context, true) : await CopySourceAsync(from, copy, ct).ConfigureAwait(false);
        var sources = copy.Files.SourcePaths.Select(p => Expand(p, copy)).ToList();
        var options = CopyOptionsFor(copy, ExpandOptional(copy.Chown, copy), ExpandOptional(copy.Chmod, copy), fromContext, unpack: false);
        AddCopyStep("COPY", copy, sources, Expand(copy.Files.Destination, copy), source, options, from);
    }

    private void Add(AddInstruction add)
    {
        if (add.Files.SourceContents.Count > 0)
        {
            CopyInline(add, "ADD", add.Files, add.Chown, add.Chmod);
            return;
        }
        if (add.Checksum is not null) throw Error(add, "ADD --checksum is not supported yet");
        if (add.Excludes.Count > 0) throw Error(add, "ADD --exclude is not supported yet");

        var sources = add.Files.SourcePaths.Select(p => Expand(p, add)).ToList();
        if (sources.FirstOrDefault(IsUrl) is { } url) throw Error(add, $"ADD from a URL ({url}) is not supported yet");
        var options = CopyOptionsFor(add, ExpandOptional(add.Chown, add), ExpandOptional(add.Chmod, add), fromContext: true, unpack: add.Unpack ?? true);
        AddCopyStep("ADD", add, sources, Expand(add.Files.Destination, add), _build.Context, options, from: null);
    }

    private void AddCopyStep(string name, Instruction at, IReadOnlyList<string> sources, string destination, Vertex source, CopyOptions options, string? from)
    {
        var dest = DestinationPath(destination);
        if (sources.Count > 1 && !dest.EndsWith('/'))
            throw Error(at, $"When using {name} with more than one source file, the destination must be a directory and end with a /");

        var baseIndex = _fs is null ? -1 : 0;
        var sourceIndex = _fs is null ? 0 : 1;
        var actions = sources.Select(s => (FileAction)new CopyAction(sourceIndex, s, dest, options)).ToImmutableArray();
        ImmutableArray<Vertex> inputs = _fs is null ? [source] : [_fs, source];
        var fromText = from is null ? "" : $"--from={from} ";
        var step = NextStep($"{name} {fromText}{string.Join(' ', sources)} {destination}");
        _fs = new Vertex(new FileOp(baseIndex, actions), inputs, step, Location(at));
        AddHistory($"{name} {fromText}{string.Join(' ', sources)} {dest} # buildkit", emptyLayer: false);
    }

    /// <summary>COPY --from: an earlier stage, a named context, or else an image reference.</summary>
    private async Task<(Vertex Source, bool FromContext)> CopySourceAsync(string from, Instruction at, CancellationToken ct)
    {
        if (_build.FindNamedContext(from) is { Kind: NamedContextKind.LocalDirectory })
            return (LocalContextVertex(from), true);
        if (_build.FindNamedContext(from) is null && _build.FindStage(from, _stage.Index) is { } stage)
        {
            var result = await _build.StageAsync(stage, ct).ConfigureAwait(false);
            return (result.Fs ?? EmptyFilesystem(), false);
        }
        if (_build.FindNamedContext(from) is { Kind: NamedContextKind.OciLayout } layout)
        {
            var image = await ResolveAsync(layout.Value, at, ct).ConfigureAwait(false);
            return (new Vertex(new ImageSourceOp(Pinned(layout.Value, image.ManifestDigest), image.Config.Platform.ToString()), [], $"[internal] load {from}"), false);
        }
        var reference = NormalizeReference(_build.FindNamedContext(from)?.Value ?? from, at);
        var resolved = await ResolveAsync(reference, at, ct).ConfigureAwait(false);
        return (new Vertex(new ImageSourceOp(Pinned(reference, resolved.ManifestDigest), resolved.Config.Platform.ToString()), [], $"FROM {reference}"), false);
    }

    private CopyOptions CopyOptionsFor(Instruction at, string? chown, string? chmod, bool fromContext, bool unpack)
    {
        // Files from the client belong to root unless --chown says otherwise (Docker's rule);
        // files from another stage or image keep their owners.
        var owner = chown is not null ? ParseOwner(chown, at) : fromContext ? new Owner("0", "0") : null;
        return new CopyOptions(
            Chown: owner,
            Mode: chmod is null ? null : ParseMode(chmod, at),
            FollowSymlinks: true,
            DirContentsOnly: true,
            AllowWildcard: true,
            AllowEmptyWildcard: true,
            CreateDestPath: true,
            AttemptUnpack: unpack && fromContext,
            Excludes: []);
    }

    private void Workdir(WorkdirInstruction workdir)
    {
        var path = CleanPath(ResolveAgainstWorkdir(Expand(workdir.Path, workdir)));
        UpdateConfig(c => c with { WorkingDir = path });
        var step = NextStep($"WORKDIR {path}");
        var mkdir = new MkdirAction(path, Convert.ToInt32("755", 8), MakeParents: true);
        _fs = new Vertex(new FileOp(_fs is null ? -1 : 0, [mkdir]), _fs is null ? [] : [_fs], step, Location(workdir));
        AddHistory($"WORKDIR {path}", emptyLayer: false);
    }

    /// <summary>A COPY destination made absolute against WORKDIR, keeping a trailing '/' (it means "into this directory").</summary>
    private string DestinationPath(string destination)
    {
        var intoDirectory = destination.Length == 0 || destination == "." || destination.EndsWith('/') || destination.EndsWith("/.", StringComparison.Ordinal);
        var path = CleanPath(ResolveAgainstWorkdir(destination));
        return intoDirectory && path != "/" ? path + "/" : path;
    }

    private string ResolveAgainstWorkdir(string path) =>
        path.StartsWith('/') ? path : $"{WorkingDir.TrimEnd('/')}/{path}";

    /// <summary>path.Clean for absolute slash paths: no empty, "." or ".." components.</summary>
    internal static string CleanPath(string path) => "/" + Builder.Core.Context.ContextPath.Clean(path);

    private Owner ParseOwner(string chown, Instruction at)
    {
        var parts = chown.Split(':');
        if (parts.Length > 2 || parts[0].Length == 0) throw Error(at, $"invalid --chown \"{chown}\": expected USER[:GROUP]");
        return new Owner(parts[0], parts.Length == 2 && parts[1].Length > 0 ? parts[1] : null);
    }

    private int ParseMode(string chmod, Instruction at)
    {
        try
        {
            var mode = Convert.ToInt32(chmod, 8);
            if (mode is >= 0 and <= 0xFFF) return mode;
        }
        catch (FormatException) { }
        catch (ArgumentException) { }
        throw Error(at, $"invalid --chmod \"{chmod}\": expected an octal mode such as 0644");
    }

    private static bool IsUrl(string source) =>
        source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || source.StartsWith("git@", StringComparison.Ordinal);

    private static IEnumerable<string> WithDefaultPath(IReadOnlyList<string> env) =>
        env.Any(e => e.StartsWith("PATH=", StringComparison.Ordinal)) ? env : env.Append($"PATH={DefaultPath}");

    private static Vertex EmptyFilesystem() => new(new FileOp(-1, []), [], "[internal] empty filesystem");
}
