using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Builder.Integration.Tests.Infrastructure;

/// <summary>One entry of a layer tar as the tests look at it.</summary>
public sealed record LayerEntry(string Path, TarEntryType Type, int Mode, int Uid, int Gid, string? LinkTarget, byte[] Content)
{
    public DateTimeOffset ModificationTime { get; init; }
}

/// <summary>
/// Reads an OCI image layout tar written by <c>-o type=oci</c> independently of the code under
/// test: index.json → manifest → config and layers, each layer's entries, and the filesystem
/// you get by applying the layers in order (OCI whiteouts honoured).
/// </summary>
public sealed class OciArchive
{
    private readonly Dictionary<string, byte[]> _blobs;

    private OciArchive(Dictionary<string, byte[]> files)
    {
        _blobs = files;
        Index = JsonDocument.Parse(files["index.json"]).RootElement;
        var manifestDigest = Index.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        ManifestDigest = manifestDigest;
        Manifest = JsonDocument.Parse(Blob(manifestDigest)).RootElement;
        ConfigDigest = Manifest.GetProperty("config").GetProperty("digest").GetString()!;
        Config = JsonDocument.Parse(Blob(ConfigDigest)).RootElement;
        LayerDigests = Manifest.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
        Layers = LayerDigests.Select(d => ReadLayer(Blob(d))).ToList();
    }

    public JsonElement Index { get; }
    public JsonElement Manifest { get; }
    public JsonElement Config { get; }
    public string ManifestDigest { get; }
    public string ConfigDigest { get; }
    public IReadOnlyList<string> LayerDigests { get; }
    public IReadOnlyList<IReadOnlyList<LayerEntry>> Layers { get; }

    public static OciArchive Load(string tarPath)
    {
        var files = new Dictionary<string, byte[]>();
        using var reader = new TarReader(File.OpenRead(tarPath));
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.DataStream is null) continue;
            using var buffer = new MemoryStream();
            entry.DataStream.CopyTo(buffer);
            files[entry.Name.TrimStart('.', '/')] = buffer.ToArray();
        }
        return new OciArchive(files);
    }

    public byte[] Blob(string digest) => _blobs[$"blobs/{digest.Replace(':', '/')}"];

    /// <summary>The image's filesystem: path (no leading slash) → entry, after every layer and whiteout.</summary>
    public IReadOnlyDictionary<string, LayerEntry> Flatten()
    {
        var fs = new SortedDictionary<string, LayerEntry>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            foreach (var entry in layer)
            {
                var name = Path.GetFileName(entry.Path);
                var dir = Path.GetDirectoryName(entry.Path) ?? "";
                if (name == ".wh..wh..opq")
                {
                    RemoveBelow(fs, dir, keepLayer: layer);
                    continue;
                }
                if (name.StartsWith(".wh.", StringComparison.Ordinal))
                {
                    var victim = dir.Length == 0 ? name[4..] : $"{dir}/{name[4..]}";
                    fs.Remove(victim);
                    RemoveBelow(fs, victim, keepLayer: null);
                    continue;
                }
                fs[entry.Path] = entry;
            }
        }
        return fs;
    }

    public string FileText(string path) =>
        Flatten().TryGetValue(path, out var entry) ? System.Text.Encoding.UTF8.GetString(entry.Content) : throw new FileNotFoundException(path);

    private static void RemoveBelow(SortedDictionary<string, LayerEntry> fs, string dir, IReadOnlyList<LayerEntry>? keepLayer)
    {
        var prefix = dir.Length == 0 ? "" : dir + "/";
        foreach (var path in fs.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && p != dir).ToList())
            if (keepLayer is null || !keepLayer.Any(e => e.Path == path)) fs.Remove(path);
    }

    private static List<LayerEntry> ReadLayer(byte[] blob)
    {
        Stream stream = new MemoryStream(blob);
        if (blob.Length > 2 && blob[0] == 0x1f && blob[1] == 0x8b) stream = new GZipStream(stream, CompressionMode.Decompress);
        var entries = new List<LayerEntry>();
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            byte[] content = [];
            if (entry.DataStream is not null)
            {
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                content = buffer.ToArray();
            }
            var path = entry.Name.TrimStart('.', '/').TrimEnd('/');
            entries.Add(new LayerEntry(path, entry.EntryType, (int)entry.Mode, entry.Uid, entry.Gid,
                string.IsNullOrEmpty(entry.LinkName) ? null : entry.LinkName, content) { ModificationTime = entry.ModificationTime });
        }
        return entries;
    }
}
