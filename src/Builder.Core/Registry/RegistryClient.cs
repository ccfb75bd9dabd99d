using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Registry;

/// <summary>A manifest or index as a registry served it, with the digest of exactly these bytes.</summary>
public sealed record RegistryManifest(Descriptor Descriptor, byte[] Content);

/// <summary>
/// The distribution-spec API of one registry: manifests and blobs, up and down. Every request
/// starts anonymous or with what an earlier challenge taught (<see cref="RegistryAuthenticator"/>),
/// is retried with backoff on 5xx, 429 and dropped connections, and every byte that comes back
/// is checked against its digest before anyone can use it.
/// </summary>
public sealed class RegistryClient
{
    // containerd's limit: a manifest is metadata, anything bigger is a misbehaving registry.
    private const int MaxManifestSize = 4 << 20;
    private const int CopyBufferSize = 1 << 16;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    private static readonly string[] ManifestMediaTypes =
        [MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest];

    private readonly HttpClient _http;
    private readonly RegistryAuthenticator _auth;
    private readonly RegistryTrust _trust;
    private readonly RegistryOptions _options;
    private readonly SemaphoreSlim _schemeChosen = new(1, 1);
    private Uri? _baseUri;

    internal RegistryClient(RegistryEndpoint endpoint, HttpClient http, RegistryAuthenticator auth, RegistryTrust trust, RegistryOptions options)
    {
        Endpoint = endpoint;
        _http = http;
        _auth = auth;
        _trust = trust;
        _options = options;
    }

    public RegistryEndpoint Endpoint { get; }

    /// <summary>Checks that <paramref name="credentials"/> are accepted by the registry (or its token service), as <c>docker login</c> does.</summary>
    public async Task LoginAsync(RegistryCredentials credentials, CancellationToken ct)
    {
        _auth.UseCredentials(credentials);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, ApiUri("v2/")), scope: "", ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new RegistryException($"login to {Endpoint.Name} failed: the registry rejected the user name or password (401 Unauthorized)", response.StatusCode);
        await EnsureSuccessAsync(response, $"{Endpoint.Name}: login", ct).ConfigureAwait(false);
    }

    /// <summary>The descriptor of a manifest without its body; null when the registry does not say its digest (then GET it).</summary>
    public async Task<Descriptor?> HeadManifestAsync(string repository, string reference, CancellationToken ct)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), PullScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, Describe(repository, "manifest", reference), ct).ConfigureAwait(false);
        if (!Digest.TryParse(response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null, out var digest))
            return null;
        if (Digest.TryParse(reference, out var asked) && asked != digest)
            throw new DigestMismatchException($"{Describe(repository, "manifest", reference)}: the registry answered with digest {digest}");
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        return new Descriptor(mediaType, digest, response.Content.Headers.ContentLength ?? 0);
    }

    /// <summary>GETs a manifest or index by tag or digest. By digest the bytes must hash to it; by tag the digest is computed here.</summary>
    public async Task<RegistryManifest> GetManifestAsync(string repository, string reference, CancellationToken ct)
    {
        var what = Describe(repository, "manifest", reference);
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), PullScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, ct).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength > MaxManifestSize)
            throw new RegistryException($"{what}: the manifest is larger than {MaxManifestSize} bytes");

        var content = await ReadBoundedAsync(response.Content, MaxManifestSize, what, ct).ConfigureAwait(false);
        var digest = Digest.Sha256(content);
        if (Digest.TryParse(reference, out var expected) && expected != digest)
            throw new DigestMismatchException($"{what}: the registry sent content with digest {digest}; nothing was stored");

        var mediaType = response.Content.Headers.ContentType?.MediaType is { } declared && ManifestMediaTypes.Contains(declared)
            ? declared
            : ManifestReader.MediaTypeOf(content);
        return new RegistryManifest(new Descriptor(mediaType, digest, content.Length), content);
    }

    /// <summary>
    /// Streams a blob into the content store, verified against its digest and size on the way in:
    /// a corrupted or truncated download stores nothing. A dropped connection restarts the download.
    /// </summary>
    public async Task<Descriptor> FetchBlobAsync(string repository, Descriptor blob, IContentStore store, CancellationToken ct)
    {
        var what = Describe(repository, "blob", blob.Digest.ToString());
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await DownloadBlobOnceAsync(repository, blob, store, what, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && attempt < _options.MaxAttempts && !ct.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), ct).ConfigureAwait(false);
            }
        }
    }

    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, ApiUri($"v2/{repository}/blobs/{digest}")), PullScope(repository), ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureSuccessAsync(response, Describe(repository, "blob", digest.ToString()), ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Asks the registry to link a blob it already holds in <paramref name="fromRepository"/>.
    /// Returns true when mounted. A registry that declines starts an ordinary upload instead,
    /// whose location is handed back so the caller need not start another.
    /// </summary>
    public async Task<(bool Mounted, Uri? UploadLocation)> TryMountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken ct)
    {
        var uri = ApiUri($"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}");
        var scope = $"{PushScope(repository)} {PullScope(fromRepository)}";
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, uri), scope, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created) return (true, null);
        await EnsureSuccessAsync(response, Describe(repository, "blob", digest.ToString()) + " (mount)", ct).ConfigureAwait(false);
        return (false, UploadLocation(response, uri));
    }

    /// <summary>
    /// Uploads a blob in one PUT (monolithic), streaming it from <paramref name="openContent"/>,
    /// which is called again for each retry. <paramref name="location"/> continues an upload
    /// already started (by a declined mount).
    /// </summary>
    public async Task UploadBlobAsync(string repository, Descriptor blob, Func<Stream> openContent, Uri? location, CancellationToken ct)
    {
        var what = Describe(repository, "blob", blob.Digest.ToString());
        location ??= await StartUploadAsync(repository, what, ct).ConfigureAwait(false);
        var target = WithQuery(location, "digest=" + Uri.EscapeDataString(blob.Digest.ToString()));
        using var response = await SendAsync(() =>
        {
            var content = new StreamContent(openContent(), CopyBufferSize);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = blob.Size;
            return new HttpRequestMessage(HttpMethod.Put, target) { Content = content };
        }, PushScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what + " (upload)", ct).ConfigureAwait(false);
    }

    /// <summary>PUTs a manifest or index under a tag or its digest; returns its digest, which the registry must agree with.</summary>
    public async Task<Digest> PutManifestAsync(string repository, string reference, string mediaType, byte[] manifest, CancellationToken ct)
    {
        var what = Describe(repository, "manifest", reference);
        var digest = Digest.Sha256(manifest);
        using var response = await SendAsync(() =>
        {
            var content = new ByteArrayContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, ApiUri($"v2/{repository}/manifests/{reference}")) { Content = content };
        }, PushScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what + " (push)", ct).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var stored) && stored != digest)
            throw new DigestMismatchException($"{what}: the registry stored the manifest as {stored}, expected {digest}");
        return digest;
    }

    private async Task<Descriptor> DownloadBlobOnceAsync(string repository, Descriptor blob, IContentStore store, string what, CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, ApiUri($"v2/{repository}/blobs/{blob.Digest}")), PullScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, ct).ConfigureAwait(false);

        await using var writer = store.OpenWriter();
        await using (var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false))
            await CopyAtMostAsync(body, writer.Stream, blob.Size, what, ct).ConfigureAwait(false);
        try
        {
            return await writer.CommitAsync(blob.MediaType, blob.Digest, ct).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new DigestMismatchException($"{what}: {e.Message}", e);
        }
    }

    /// <summary>Copies and refuses more than the descriptor's size: a registry cannot fill the disk with an endless body.</summary>
    private static async Task CopyAtMostAsync(Stream source, Stream destination, long size, string what, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > size) throw new DigestMismatchException($"{what}: the registry sent more than the expected {size} bytes; nothing was stored");
                await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
            if (total != size) throw new DigestMismatchException($"{what}: the registry sent {total} bytes, expected {size}; nothing was stored");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<Uri> StartUploadAsync(string repository, string what, CancellationToken ct)
    {
        var uri = ApiUri($"v2/{repository}/blobs/uploads/");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, uri), PushScope(repository), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what + " (start upload)", ct).ConfigureAwait(false);
        return UploadLocation(response, uri);
    }

    private Uri UploadLocation(HttpResponseMessage response, Uri requestUri)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"{Endpoint.Name}: the registry started an upload but sent no Location");
        // The spec allows a relative Location; it is relative to the request.
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage?.RequestUri ?? requestUri, location);
    }

    /// <summary>
    /// Sends a request, answering one auth challenge and retrying transient failures. The request
    /// is rebuilt for each try because a sent request (and its streamed body) cannot be sent twice.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, string scope, CancellationToken ct)
    {
        var baseUri = await ChooseBaseUriAsync(ct).ConfigureAwait(false);
        var answeredChallenge = false;
        for (var attempt = 1; ; attempt++)
        {
            using var request = createRequest();
            if (request.RequestUri is { IsAbsoluteUri: false } relative) request.RequestUri = new Uri(baseUri, relative);
            request.Headers.Authorization = _auth.HeaderFor(scope);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && attempt < _options.MaxAttempts && !ct.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException($"{Endpoint.Name}: cannot reach the registry at {baseUri.GetLeftPart(UriPartial.Authority)}: {Explain(e)}", inner: e);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !answeredChallenge)
            {
                answeredChallenge = true;
                if (await _auth.AnswerChallengeAsync(response, scope, ct).ConfigureAwait(false))
                {
                    response.Dispose();
                    attempt--; // answering a challenge is not a failure to retry
                    continue;
                }
            }
            if (IsRetryable(response.StatusCode) && attempt < _options.MaxAttempts)
            {
                var delay = RetryAfter(response) ?? Backoff(attempt);
                response.Dispose();
                await Task.Delay(delay, ct).ConfigureAwait(false);
                continue;
            }
            return response;
        }
    }

    /// <summary>
    /// HTTPS, unless the registry may be plain HTTP (loopback, insecure) and does not speak TLS:
    /// as Docker does, try HTTPS first and fall back only when no certificate came back at all,
    /// so a TLS registry with an untrusted certificate is an error, never a silent downgrade.
    /// </summary>
    private async Task<Uri> ChooseBaseUriAsync(CancellationToken ct)
    {
        if (_baseUri is { } chosen) return chosen;
        if (!Endpoint.AllowsPlainHttp) return _baseUri = Endpoint.BaseUri;
        await _schemeChosen.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_baseUri is not null) return _baseUri;
            try
            {
                using var probe = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint.BaseUri, "v2/"));
                using var response = await _http.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                return _baseUri = Endpoint.BaseUri;
            }
            catch (HttpRequestException) when (!_trust.CertificatePresented)
            {
                return _baseUri = Endpoint.PlainHttpBaseUri;
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException($"{Endpoint.Name}: TLS connection failed: {Explain(e)}", inner: e);
            }
        }
        finally
        {
            _schemeChosen.Release();
        }
    }

    /// <summary>The innermost cause reads best (e.g. "the remote certificate is invalid"), without the layers of wrapping.</summary>
    private static string Explain(Exception e)
    {
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException) messages.Add(current.Message);
        return string.Join(": ", messages.Distinct());
    }

    private static bool IsRetryable(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;

    /// <summary>Connection-level failures (reset, refused, cut mid-body) may succeed on another try; protocol answers will not.</summary>
    private static bool IsTransient(Exception e) => e is HttpRequestException { StatusCode: null } or IOException;

    private TimeSpan Backoff(int attempt) => _options.RetryDelay * Math.Pow(2, attempt - 1);

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        var delay = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, MaxRetryAfter.Ticks)) : null;
    }

    /// <summary>Turns a failed response into an error that names what was asked for and what the registry said.</summary>
    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var detail = await ReadRegistryErrorAsync(response, ct).ConfigureAwait(false);
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var message = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => $"{what}: authentication required ({status}); log in with `builder login {Endpoint.Name}`",
            HttpStatusCode.Forbidden => $"{what}: access denied ({status})",
            HttpStatusCode.NotFound => $"{what}: not found ({status})",
            _ => $"{what}: the registry answered {status}",
        };
        throw new RegistryException(detail is null ? message : $"{message}: {detail}", response.StatusCode);
    }

    /// <summary>The registry's own explanation (<c>{"errors":[{"code","message"}]}</c>), if it sent one.</summary>
    private static async Task<string?> ReadRegistryErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/json" or null)) return null;
        try
        {
            var body = await response.Content.ReadFromJsonAsync(RegistryJson.Default.ErrorBody, ct).ConfigureAwait(false);
            var errors = body?.Errors?.Select(e => string.IsNullOrEmpty(e.Message) ? e.Code : $"{e.Code}: {e.Message}").Where(s => !string.IsNullOrEmpty(s)).ToList();
            return errors is { Count: > 0 } ? string.Join("; ", errors) : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or HttpRequestException or IOException or NotSupportedException)
        {
            return null;
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, int limit, string what, CancellationToken ct)
    {
        await using var body = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[CopyBufferSize];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit) throw new RegistryException($"{what}: the manifest is larger than {limit} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, ApiUri($"v2/{repository}/manifests/{reference}"));
        foreach (var mediaType in ManifestMediaTypes)
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        return request;
    }

    /// <summary>A path of the API; <see cref="SendAsync"/> resolves it against the scheme chosen for this registry.</summary>
    private static Uri ApiUri(string path) => new(path, UriKind.Relative);

    private static Uri WithQuery(Uri uri, string parameter)
    {
        var builder = new UriBuilder(uri);
        var existing = builder.Query.TrimStart('?');
        builder.Query = existing.Length > 0 ? $"{existing}&{parameter}" : parameter;
        return builder.Uri;
    }

    private string Describe(string repository, string kind, string reference) =>
        $"{Endpoint.Name}/{repository}: {kind} {reference}";

    internal static string PullScope(string repository) => $"repository:{repository}:pull";

    internal static string PushScope(string repository) => $"repository:{repository}:pull,push";
}

/// <summary>The body of a registry's error answer (distribution spec).</summary>
internal sealed record ErrorBody([property: JsonPropertyName("errors")] IReadOnlyList<ErrorEntry>? Errors);

internal sealed record ErrorEntry(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);
