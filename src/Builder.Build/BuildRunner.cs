using Builder.Core.Engine;
using Builder.Core.Export;
using Builder.Core.Export.Cache;
using Builder.Core.Oci;
using Builder.Core.Solver;
using Builder.Frontends.Dockerfile.Conversion;

namespace Builder.Build;

/// <summary>
/// Runs one build on a <see cref="Worker"/>: Dockerfile → graph (frontend), graph → snapshots
/// (solver), snapshots → outputs (exporters). Many runs may share one worker at once (the
/// daemon); its solver runs identical work once for all of them.
/// </summary>
public sealed class BuildRunner(Worker worker)
{
    public async Task<BuildResult> RunAsync(BuildRequest request, IBuildProgress progress, CancellationToken ct)
    {
        // Checked before any work: a --cache-to the engine cannot honour is the user's error.
        var cacheTargets = request.CacheExports.Select(ToCacheTarget).ToList();

        var converted = await DockerfileFrontend.ConvertAsync(request.ToFrontendRequest(), worker.ResolverFor(request.AlwaysPull), ct).ConfigureAwait(false);
        foreach (var warning in converted.Warnings) progress.Warning(warning);

        ImportedCache? imported = null;
        if (request.CacheImports.Count > 0 && !request.NoCache)
        {
            imported = await worker.CacheImporter.LoadAsync(
                request.CacheImports.Select(c => (c.Type, c.Attributes)), progress.Warning, ct).ConfigureAwait(false);
            progress.Message($"importing cache: {imported.Count} records");
        }

        var session = new SolveSession(progress, request.LocalDirectories)
        {
            ImportedCache = imported,
            CollectCachedRecords = cacheTargets.Count > 0,
            NoCache = request.NoCache,
            SourceDateEpoch = request.SourceDateEpoch,
            Secrets = new SecretSources(request.Secrets),
            SshAgents = request.SshAgents,
            Entitlements = request.Entitlements,
        };
        OpOutput result;
        try { result = await worker.Solver.SolveAsync(converted.Definition, session, ct).ConfigureAwait(false); }
        catch (SolveException failure) when (!ct.IsCancellationRequested)
        {
            throw new BuildFailedException(SolveErrorReport.Format(failure, request.DockerfileText));
        }

        var imageConfig = converted.Config;
        if (cacheTargets.Any(t => t.Type == "inline"))
        {
            var inline = await worker.CacheExporter.InlineAsync([.. session.Solved.Values], result.SnapshotId, request.SourceDateEpoch, imported, ct).ConfigureAwait(false);
            imageConfig = imageConfig with { InlineCache = System.Text.Json.JsonDocument.Parse(inline.ToJson()).RootElement.Clone() };
            progress.Message($"inline cache: {inline.Records.Count} records in the image config");
        }
        var build = new BuildOutput(result.SnapshotId, imageConfig);
        var options = new ExportOptions { SourceDateEpoch = request.SourceDateEpoch };
        ExportResult? last = null;
        foreach (var output in request.Outputs)
        {
            progress.Message($"exporting to {output.ShownType ?? output.Type}{((output.ShownAs ?? output.Dest) is { } d ? $" {d}" : "")}");
            last = await worker.ExporterFor(output.Type, output.Attributes, output.Names).ExportAsync(build, options, ct).ConfigureAwait(false);
        }

        foreach (var target in cacheTargets.Where(t => t.Type != "inline"))
        {
            progress.Message($"exporting cache to {target.Type} {target.Location} (mode={target.Mode.ToString().ToLowerInvariant()})");
            var exported = await worker.CacheExporter.ExportAsync(target, [.. session.Solved.Values], result.SnapshotId, request.SourceDateEpoch, imported, ct).ConfigureAwait(false);
            progress.Message($"exported {exported.Records} cache records as {exported.Manifest.Digest}: {exported.BlobsWritten} blobs written, {exported.BlobsReused} already there");
        }

        var response = new Dictionary<string, string>();
        if (last?.Manifest is { } manifest)
        {
            response["containerimage.digest"] = manifest.Digest.ToString();
            response["containerimage.descriptor"] = System.Text.Json.JsonSerializer.Serialize(manifest, OciJson.Relaxed.Descriptor);
        }
        if (last?.ConfigDigest is { } config)
        {
            response["containerimage.config.digest"] = config.ToString();
            progress.Message($"writing image {config}");
        }
        return new BuildResult(last?.Manifest?.Digest.ToString(), last?.ConfigDigest?.ToString()) { ExporterResponse = response };
    }

    private static CacheTarget ToCacheTarget(CacheOptions options)
    {
        try { return CacheTarget.Parse(options.Type, options.Attributes); }
        catch (Exception e) when (e is ArgumentException or FormatException) { throw new BuildFailedException(e.Message); }
    }
}
