using System.Security.Cryptography;
using Builder.Core.Filesystem;
using Builder.Core.Graph;
using Builder.Core.Snapshots;
using Builder.Core.Solver;

namespace Builder.Core.Ops;

/// <summary>
/// ADD from a URL. The key is content: with a --checksum, the URL and that checksum (nothing is
/// fetched to know it); without, the file is downloaded while keys are computed and its SHA-256
/// goes into the key, so a changed file at the same URL is a new key. The result is a snapshot
/// holding only the file (0600, mtime from Last-Modified); ADD copies it into the stage.
/// </summary>
public sealed class HttpSourceWorker(ISnapshotter snapshotter, string tempDirectory, HttpClient? client = null) : IOpWorker
{
    private static readonly HttpClient SharedClient = new() { Timeout = TimeSpan.FromMinutes(10) };
    private readonly HttpClient _client = client ?? SharedClient;

    public bool Cacheable => true;

    public async Task<OpKey> ComputeKeyAsync(Vertex vertex, IReadOnlyList<OpKey> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (HttpSourceOp)vertex.Op;
        if (op.Checksum is not null) return new OpKey(CacheKey.Of(op, Array.Empty<string>()));
        var download = await DownloadOnceAsync(op, session, ct).ConfigureAwait(false);
        return new OpKey(CacheKey.Of(op, [download.Digest]));
    }

    public async Task<OpOutput> ExecuteAsync(Vertex vertex, IReadOnlyList<OpOutput> inputs, SolveSession session, CancellationToken ct)
    {
        var op = (HttpSourceOp)vertex.Op;
        var download = await DownloadOnceAsync(op, session, ct).ConfigureAwait(false);
        if (op.Checksum is { } expected && !string.Equals(expected, download.Digest, StringComparison.OrdinalIgnoreCase))
            throw new HttpSourceException($"digest mismatch for {op.Url}: expected {expected}, got {download.Digest}");

        await using var target = await snapshotter.PrepareAsync(null, ct).ConfigureAwait(false);
        var file = RootedPath.ResolveParent(target.MountPath, "/" + op.Filename).FullPath;
        File.Copy(download.Path, file, overwrite: true);
        Native.SetOwner(file, 0, 0);
        Native.SetMode(file, 0x180); // 0600, as BuildKit writes downloads
        var modified = download.LastModified ?? session.SourceDateEpoch ?? DateTimeOffset.UtcNow;
        Native.SetTimes(file, modified.ToUnixTimeSeconds(), 0);
        var committed = await target.CommitAsync(ct).ConfigureAwait(false);
        return new OpOutput(committed.Id);
    }

    private sealed record Download(string Path, string Digest, DateTimeOffset? LastModified);

    /// <summary>One download per URL per build, shared by key computation and execution; removed when the process ends.</summary>
    private Task<Download> DownloadOnceAsync(HttpSourceOp op, SolveSession session, CancellationToken ct) =>
        (Task<Download>)session.Items.GetOrAdd($"http:{op.Url}", _ => DownloadAsync(op.Url, ct));

    private async Task<Download> DownloadAsync(string url, CancellationToken ct)
    {
        Directory.CreateDirectory(tempDirectory);
        var path = System.IO.Path.Combine(tempDirectory, $"http-{Guid.NewGuid():N}");
        try
        {
            using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new HttpSourceException($"failed to download {url}: invalid response status {(int)response.StatusCode}");
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false))
            await using (var output = File.Create(path))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    sha.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                }
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { File.Delete(path); } catch (IOException) { } };
            return new Download(path, "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()), response.Content.Headers.LastModified);
        }
        catch (HttpRequestException e)
        {
            File.Delete(path);
            throw new HttpSourceException($"failed to download {url}: {e.Message}");
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }
}

/// <summary>A download failed or did not match its checksum: said plainly to the user.</summary>
public sealed class HttpSourceException(string message) : Exception(message);
