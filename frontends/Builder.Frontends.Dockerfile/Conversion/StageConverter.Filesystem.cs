using System.Collections.Immutable;
using System.Globalization;
using Builder.Core.Graph;
using Builder.Core.Oci;
using Builder.Frontends.Dockerfile.Instructions;

namespace Builder.Frontends.Dockerfile.Conversion;

/// <summary>The instructions that change the filesystem: each adds one vertex over the stage's current one.</summary>
internal sealed partial class StageConverter
{
    /// <summary>A RUN for another architecture needs an emulator; without one it would only fail later with "exec format error".</summary>
    private void EnsureRunnablePlatform(Instruction run)
    {
        var host = Platform.Host;
        if (_platform.Os == host.Os && _platform.Architecture == host.Architecture) return;
        if (_build.Request.EmulatedArchitectures.Contains(_platform.Architecture)) return;
        throw Error(run, $"cannot RUN for platform {_platform} on this {host.Os}/{host.Architecture} host: no emulator is registered for {_platform.Architecture} (binfmt_misc)");
    }

    private async Task CopyAsync(CopyInstruction copy, CancellationToken ct)
    {
        if (copy.Files.SourceContents.Count > 0)
        {
            CopyInline(copy, "COPY", copy.Files, copy.Chown, copy.Chmod);
            return;
        }

        var from = ExpandOptional(copy.From, copy);
        var (source, fromContext) = from is null ? (_build.Context, true) : await CopySourceAsync(from, copy, ct).ConfigureAwait(false);
        var sources = copy.Files.SourcePaths.Select(p => Expand(p, copy)).ToList();
        if (sources.FirstOrDefault(IsUrl) is { } url) throw Error(copy, "source can't be a URL for COPY");
        var chown = ExpandOptional(copy.Chown, copy);
        var chmod = ExpandOptional(copy.Chmod, copy);
        var options = CopyOptionsFor(copy, chown, chmod, fromContext, unpack: false) with
        {
            Excludes = [.. copy.Excludes.Select(e => Expand(e, copy))],
            IncludeParents = copy.Parents,
        };
        // COPY --link is done as a plain copy onto the stage (same files; BuildKit's rebase-without-rebuild is not modelled).
        AddCopyStep("COPY", copy, sources.Select(s => (source, s, options)).ToList(), Expand(copy.Files.Destination, copy),
            HistoryFlags(copy.Parents, chown, chmod), from);
    }

    private void Add(AddInstruction add)
    {
        if (add.Files.SourceContents.Count > 0)
        {
            CopyInline(add, "ADD", add.Files, add.Chown, add.Chmod);
            return;
        }

        var sources = add.Files.SourcePaths.Select(p => Expand(p, add)).ToList();
        var checksum = ExpandOptional(add.Checksum, add);
        if (checksum is not null)
        {
            if (sources.Count != 1) throw Error(add, "checksum can't be specified for multiple sources");
            if (!IsUrl(sources[0])) throw Error(add, "checksum requires HTTP(S) or Git sources");
            if (!System.Text.RegularExpressions.Regex.IsMatch(checksum, "^sha256:[0-9a-f]{64}$"))
                throw Error(add, $"invalid checksum \"{checksum}\": expected sha256: and 64 lowercase hex digits");
        }
        var chown = ExpandOptional(add.Chown, add);
        var chmod = ExpandOptional(add.Chmod, add);
        var excludes = add.Excludes.Select(e => Expand(e, add)).ToImmutableArray();
        var copies = new List<(Vertex, string, CopyOptions)>();
        foreach (var source in sources)
        {
            if (source.StartsWith("git@", StringComparison.Ordinal) || source.EndsWith(".git", StringComparison.Ordinal) && IsUrl(source))
                throw Error(add, $"ADD of a Git repository ({source}) is not supported");
            if (IsUrl(source))
            {
                // A URL is downloaded to one file and never extracted (unless --unpack=true says so).
                var filename = UrlFilename(source);
                var http = new Vertex(new HttpSourceOp(source, checksum, filename), [], $"[internal] download {source}", Location(add));
                var urlOptions = CopyOptionsFor(add, chown, chmod, fromContext: true, unpack: add.Unpack ?? false) with { FollowSymlinks = false };
                copies.Add((http, "/" + filename, urlOptions));
                continue;
            }
            var options = CopyOptionsFor(add, chown, chmod, fromContext: true, unpack: add.Unpack ?? true) with
            {
                Excludes = excludes,
                ExtractChown = chown is null ? null : ParseOwner(chown, add),
            };
            copies.Add((_build.Context, source, options));
        }
        AddCopyStep("ADD", add, copies, Expand(add.Files.Destination, add), HistoryFlags(parents: false, chown, chmod), from: null);
    }

    /// <summary>The file name a download gets: the URL path's last component, or BuildKit's "__unnamed__".</summary>
    private static string UrlFilename(string url)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var path = Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/');
            var name = path[(path.LastIndexOf('/') + 1)..];
            if (name is not ("" or "." or "..")) return name;
        }
        return "__unnamed__";
    }

    private static string HistoryFlags(bool parents, string? chown, string? chmod) =>
        (parents ? "--parents " : "") + (chown is null ? "" : $"--chown={chown} ") + (chmod is null ? "" : $"--chmod={chmod} ");

    private void AddCopyStep(string name, Instruction at, IReadOnlyList<(Vertex Input, string Path, CopyOptions Options)> copies, string destination, string historyFlags, string? from)
    {
        var dest = DestinationPath(destination);
        if (copies.Count > 1 && !dest.EndsWith('/'))
            throw Error(at, $"When using {name} with more than one source file, the destination must be a directory and end with a /");

        var baseIndex = _fs is null ? -1 : 0;
        var inputs = new List<Vertex>();
        if (_fs is not null) inputs.Add(_fs);
        var actions = new List<FileAction>();
        foreach (var (input, path, options) in copies)
        {
            var index = inputs.IndexOf(input);
            if (index < 0) { inputs.Add(input); index = inputs.Count - 1; }
            actions.Add(new CopyAction(index, path, dest, options));
        }
        var sources = string.Join(' ', copies.Select(c => c.Path));
        var sourcesAsWritten = string.Join(' ', copies.Select(c => c.Input.Op is HttpSourceOp h ? h.Url : c.Path));
        var fromText = from is null ? "" : $"--from={from} ";
        var step = NextStep($"{name} {fromText}{historyFlags}{sourcesAsWritten} {destination}");
        _fs = new Vertex(new FileOp(baseIndex, [.. actions]), [.. inputs], step, Location(at));
        AddHistory($"{name} {historyFlags}{sourcesAsWritten} {destination} # buildkit", emptyLayer: false);
        _ = sources;
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
        if (path == "/")
        {
            // BuildKit makes no layer for the root: it is always there.
            AddHistory($"WORKDIR {path}", emptyLayer: true);
            return;
        }
        var step = NextStep($"WORKDIR {path}");
        // The directory belongs to the stage's USER, as BuildKit creates it.
        var owner = _config.Config.User is { Length: > 0 } user ? new Owner(user.Split(':')[0], user.Contains(':') ? user[(user.IndexOf(':') + 1)..] : null) : null;
        var mkdir = new MkdirAction(path, Convert.ToInt32("755", 8), MakeParents: true, Owner: owner);
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
        throw Error(at, $"invalid chmod parameter: '{chmod}'. it should be octal string and between 0 and 07777");
    }

    private static bool IsUrl(string source) =>
        source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || source.StartsWith("git@", StringComparison.Ordinal);

    private static IEnumerable<string> WithDefaultPath(IReadOnlyList<string> env) =>
        env.Any(e => e.StartsWith("PATH=", StringComparison.Ordinal)) ? env : env.Append($"PATH={DefaultPath}");

    private static Vertex EmptyFilesystem() => new(new FileOp(-1, []), [], "[internal] empty filesystem");
}
