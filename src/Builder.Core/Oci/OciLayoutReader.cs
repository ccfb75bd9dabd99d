using System.Formats.Tar;
using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>Where an OCI image layout is: <c>oci-layout:///path[:tag][@sha256:…]</c>, a directory or a tar of one.</summary>
public sealed record OciLayoutLocation(string Path, string? Tag, Digest? Digest)
{
    public const string Scheme = "oci-layout://";

    public static OciLayoutLocation Parse(string text)
    {
        var rest = text.StartsWith(Scheme, StringComparison.Ordinal) ? text[Scheme.Length..] : text;
        Digest? digest = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            digest = Graph.Digest.Parse(rest[(at + 1)..]);
            rest = rest[..at];
        }
        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }
        if (rest.Length == 0) throw new FormatException($"invalid OCI layout reference \"{text}\": no path");
        return new OciLayoutLocation(rest, tag, digest);
    }
}

/// <summary>The image an OCI layout held, now in the content store.</summary>
public sealed record ImportedImage(Descriptor Manifest, ImageManifest ManifestContent, ImageConfig Config);

/// <summary>
/// Reads an OCI image layout (a directory or a tar) into the content store, every blob verified
/// against its name: <c>--build-context x=oci-layout://…</c> and the test base image. The image is
/// picked from index.json by tag (<c>org.opencontainers.image.ref.name</c>), by digest, as the only
/// entry, or by platform when an index lists several.
/// </summary>
public sealed class OciLayoutReader(IContentStore content)
{
    public async Task<ImportedImage> ImportAsync(string reference, Platform? platform, CancellationToken ct)
    {
        var location = OciLayoutLocation.Parse(reference);
        var wanted = platform ?? Platform.Host;
        if (Directory.Exists(location.Path)) return await ImportDirectoryAsync(location, wanted, ct).ConfigureAwait(false);
        if (File.Exists(location.Path)) return await ImportTarAsync(location, wanted, ct).ConfigureAwait(false);
        throw new FileNotFoundException($"no OCI layout at {location.Path}", location.Path);
    }

    /// <summary>From a directory only the blobs the chosen image needs are copied.</summary>
    private async Task<ImportedImage> ImportDirectoryAsync(OciLayoutLocation location, Platform platform, CancellationToken ct)
    {
        var index = ImageIndex.FromJson(await File.ReadAllBytesAsync(Path.Combine(location.Path, "index.json"), ct).ConfigureAwait(false));
        async Task<byte[]> ReadDocumentAsync(Descriptor descriptor)
        {
            await ImportBlobAsync(descriptor).ConfigureAwait(false);
            return await content.ReadAllBytesAsync(descriptor.Digest, ct).ConfigureAwait(false);
        }
        async Task ImportBlobAsync(Descriptor descriptor)
        {
            var path = Path.Combine(location.Path, "blobs", descriptor.Digest.Algorithm, descriptor.Digest.Hex);
            await using var blob = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await content.PutAsync(blob, descriptor.MediaType, descriptor.Digest, ct).ConfigureAwait(false);
        }

        var image = await ResolveAsync(index, location, platform, ReadDocumentAsync).ConfigureAwait(false);
        foreach (var layer in image.ManifestContent.Layers) await ImportBlobAsync(layer).ConfigureAwait(false);
        return image;
    }

    /// <summary>
    /// A tar cannot be read out of order without unpacking it, so one pass imports every blob it
    /// holds (each verified by its name) and the image is resolved from the store afterwards.
    /// </summary>
    private async Task<ImportedImage> ImportTarAsync(OciLayoutLocation location, Platform platform, CancellationToken ct)
    {
        byte[]? indexJson = null;
        await using (var file = new FileStream(location.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
        await using (var tar = new TarReader(file))
        {
            while (await tar.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (name == "index.json")
                {
                    using var buffer = new MemoryStream();
                    await entry.DataStream.CopyToAsync(buffer, ct).ConfigureAwait(false);
                    indexJson = buffer.ToArray();
                }
                else if (name.StartsWith("blobs/sha256/", StringComparison.Ordinal) && Digest.TryParse("sha256:" + name["blobs/sha256/".Length..], out var digest))
                {
                    await content.PutAsync(entry.DataStream, "application/octet-stream", digest, ct).ConfigureAwait(false);
                }
            }
        }
        if (indexJson is null) throw new InvalidDataException($"{location.Path} is not an OCI layout: it has no index.json");

        var image = await ResolveAsync(ImageIndex.FromJson(indexJson), location, platform,
            descriptor => content.ReadAllBytesAsync(descriptor.Digest, ct)).ConfigureAwait(false);
        var missing = image.ManifestContent.Layers.FirstOrDefault(l => !content.Exists(l.Digest));
        if (missing is not null) throw new InvalidDataException($"{location.Path}: layer {missing.Digest} is missing from the layout");
        return image;
    }

    private static async Task<ImportedImage> ResolveAsync(ImageIndex index, OciLayoutLocation location, Platform platform, Func<Descriptor, Task<byte[]>> readDocument)
    {
        var chosen = ChooseFromIndex(index, location, platform);
        // An index inside the layout (a multi-platform image): pick the manifest for the platform.
        while (MediaTypes.IsIndex(chosen.MediaType))
        {
            var nested = ImageIndex.FromJson(await readDocument(chosen).ConfigureAwait(false));
            chosen = ChooseByPlatform(nested.Manifests, platform)
                ?? throw new InvalidDataException($"{location.Path}: no manifest for {platform} in index {chosen.Digest}");
        }
        var manifest = ImageManifest.FromJson(await readDocument(chosen).ConfigureAwait(false));
        var config = ImageConfig.FromJson(await readDocument(manifest.Config).ConfigureAwait(false));
        return new ImportedImage(chosen, manifest, config);
    }

    private static Descriptor ChooseFromIndex(ImageIndex index, OciLayoutLocation location, Platform platform)
    {
        var manifests = index.Manifests;
        if (location.Digest is { } digest)
            return manifests.FirstOrDefault(m => m.Digest == digest) ?? throw new InvalidDataException($"{location.Path}: index.json has no {digest}");
        if (location.Tag is { } tag)
            return manifests.FirstOrDefault(m => m.Annotations?.GetValueOrDefault("org.opencontainers.image.ref.name") == tag)
                ?? throw new InvalidDataException($"{location.Path}: no image tagged \"{tag}\" (index.json has {string.Join(", ", Tags(manifests))})");
        if (manifests.Count == 1) return manifests[0];
        return ChooseByPlatform(manifests, platform)
            ?? throw new InvalidDataException($"{location.Path} holds {manifests.Count} images; name one with :tag (index.json has {string.Join(", ", Tags(manifests))})");
    }

    private static Descriptor? ChooseByPlatform(IReadOnlyList<Descriptor> manifests, Platform platform) =>
        manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == platform.Os && p.Architecture == platform.Architecture
                                      && (platform.Variant is null || p.Variant == platform.Variant));

    private static IEnumerable<string> Tags(IEnumerable<Descriptor> manifests) =>
        manifests.Select(m => m.Annotations?.GetValueOrDefault("org.opencontainers.image.ref.name") ?? m.Digest.ToString());
}
