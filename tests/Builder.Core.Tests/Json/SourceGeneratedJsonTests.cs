using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Builder.Core.Export.Cache;
using Builder.Core.Graph;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Json;

/// <summary>
/// The JSON of ops and image documents is generated at compile time (for the Native AOT binary).
/// It used to be reflection-based, and its bytes are what vertex digests, cache keys, config and
/// manifest digests are computed from, so it must write exactly what reflection wrote with the old
/// options. Tests run under the JIT, where the old reflection path still works to compare against.
/// </summary>
public sealed class SourceGeneratedJsonTests
{
    // The options each encoding had before source generation, with reflection metadata.
    private static readonly JsonSerializerOptions OldCanonicalOptions = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    private static readonly JsonSerializerOptions OldImageOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    // Characters the two encoders treat differently: HTML-sensitive, non-ASCII, a surrogate pair, controls.
    private const string Awkward = "a+b <c> & 'd' \"e\" \\ é ü 漢 😀 \t\n\u0001 \u2028";

    private static readonly Digest SomeDigest = Digest.Sha256("some content");
    private static readonly Digest OtherDigest = Digest.Sha256("other content");

    public static TheoryData<string, Op> Ops() => new()
    {
        { "image", new ImageSourceOp("docker.io/library/busybox:latest@" + SomeDigest, "linux/amd64") },
        { "local", new LocalSourceOp("context", ["*.tmp", "!keep.tmp", Awkward]) },
        { "local without excludes", new LocalSourceOp("context", []) },
        { "http", new HttpSourceOp("https://example.com/a?b=c&d=<e>", SomeDigest.ToString(), "file name é") },
        { "http without checksum", new HttpSourceOp("http://example.com/x", null, "x") },
        { "exec", new ExecOp(new ExecMeta(["/bin/sh", "-c", Awkward], ["PATH=/usr/bin", "A=" + Awkward], "/work dir", "app:staff", "none", "insecure"),
            [
                new ExecMountSpec("/", 0),
                new ExecMountSpec("/src", 1, "sub/dir", ReadOnly: true),
                new ExecMountSpec("/scratch", 2, ReadOnly: false),
                new ExecMountSpec("/cache", -1, Type: "cache", Cache: new CacheMountOptions("go-build", "locked", 1000, 1000, 0x1C0)),
                new ExecMountSpec("/seeded", 1, "seed", Type: "cache", Cache: new CacheMountOptions("seeded")),
                new ExecMountSpec("/run/secrets/token", -1, ReadOnly: true, Type: "secret", Secret: new SecretMountOptions("token", true, "TOKEN", 1, 2, 0x124)),
                new ExecMountSpec("", -1, Type: "secret", Secret: new SecretMountOptions("env-only", Env: "ONLY")),
                new ExecMountSpec("/run/ssh", -1, Type: "ssh", Ssh: new SshMountOptions("default", true)),
                new ExecMountSpec("/tmp", -1, Type: "tmpfs", Tmpfs: new TmpfsMountOptions(64L << 20)),
                new ExecMountSpec("/tmp2", -1, Type: "tmpfs", Tmpfs: new TmpfsMountOptions()),
            ]) },
        { "exec with defaults", new ExecOp(new ExecMeta(["true"], [], "/", "", "default"), [new ExecMountSpec("/", 0)]) },
        { "file", new FileOp(0,
            [
                new CopyAction(1, "/src/*.go", "/app/", new CopyOptions(
                    Chown: new Owner("app", "staff"), Mode: 0x1ED, FollowSymlinks: true, DirContentsOnly: false,
                    AllowWildcard: false, AllowEmptyWildcard: false, CreateDestPath: false, AttemptUnpack: true,
                    Excludes: ["*.md", Awkward], Timestamp: 1700000000, IncludeParents: true, ExtractChown: new Owner("1000", null))),
                new CopyAction(0, "/", "/", new CopyOptions(Excludes: [])),
                new MkdirAction("/app/data", 0x1ED, true, new Owner("app", null), 0),
                new MkdirAction("/plain", 0x1FF, false),
                new MkfileAction("/etc/motd", 0x1A4, Awkward, new Owner("0", "0"), -1),
                new MkfileAction("/empty", 0x1A4, ""),
                new RmAction("/tmp/*", AllowNotFound: true, AllowWildcard: true),
                new RmAction("/gone"),
                new SymlinkAction("/usr/bin/app", "../lib/app/bin", new Owner("app", "app"), long.MaxValue),
                new SymlinkAction("/link", Awkward),
            ]) },
        { "file from scratch", new FileOp(-1, [new MkfileAction("/hello", 0x1A4, "hi\n")]) },
        { "merge", new MergeOp() },
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void Ops_encode_to_the_bytes_reflection_wrote(string kind, Op op)
    {
        var expected = JsonSerializer.SerializeToUtf8Bytes(op, OldCanonicalOptions);

        Assert.True(expected.AsSpan().SequenceEqual(CanonicalEncoding.Encode(op)),
            $"{kind}:\nreflection: {System.Text.Encoding.UTF8.GetString(expected)}\ngenerated:  {System.Text.Encoding.UTF8.GetString(CanonicalEncoding.Encode(op))}");
    }

    [Fact]
    public void The_encoding_still_names_the_op_kind_first_and_writes_nulls()
    {
        // Spot check of the shape itself, in case both paths changed together (e.g. a new runtime).
        Assert.Equal(
            """{"op":"http","url":"http://example.com/x","checksum":null,"filename":"x"}""",
            System.Text.Encoding.UTF8.GetString(CanonicalEncoding.Encode(new HttpSourceOp("http://example.com/x", null, "x"))));
    }

    [Fact]
    public void A_full_image_config_is_written_as_reflection_wrote_it()
    {
        var config = FullImageConfig();

        AssertSameBytes(JsonSerializer.SerializeToUtf8Bytes(config, OldImageOptions), config.ToJson());
    }

    [Fact]
    public void An_empty_image_config_leaves_out_what_reflection_left_out()
    {
        var config = new ImageConfig { Architecture = "amd64" };

        AssertSameBytes(JsonSerializer.SerializeToUtf8Bytes(config, OldImageOptions), config.ToJson());
    }

    [Fact]
    public void An_image_config_reads_back_as_reflection_read_it()
    {
        // As another tool writes it: other field order, a field this project does not model, nulls.
        var json = """
            {"os":"linux","architecture":"arm64","variant":"v8","unknown":{"x":[1,2]},
             "config":{"Env":["A=1"],"Cmd":null,"ExposedPorts":{"80/tcp":{}},"Healthcheck":{"Test":["NONE"]}},
             "rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},
             "history":[{"created":"2024-01-02T03:04:05.123456789Z","created_by":"/bin/sh"}],
             "io.builder.cache.v1":{"version":1,"records":[]}}
            """u8.ToArray();

        var viaReflection = JsonSerializer.Deserialize<ImageConfig>(json, OldImageOptions)!;
        var generated = ImageConfig.FromJson(json);

        AssertSameBytes(JsonSerializer.SerializeToUtf8Bytes(viaReflection, OldImageOptions), generated.ToJson());
    }

    [Fact]
    public void A_manifest_is_written_and_read_as_reflection_did()
    {
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = "application/vnd.example+json",
            Config = new Descriptor(MediaTypes.OciConfig, SomeDigest, 1234),
            Layers =
            [
                new Descriptor(MediaTypes.OciLayerGzip, SomeDigest, 1L << 40) { Annotations = new Dictionary<string, string> { ["org.opencontainers.image.title"] = Awkward } },
                new Descriptor(MediaTypes.OciLayer, OtherDigest, 0),
            ],
            Annotations = new Dictionary<string, string> { ["a"] = "b", ["org.opencontainers.image.created"] = "2024-01-02T03:04:05Z" },
        };
        var minimal = new ImageManifest { Config = new Descriptor(MediaTypes.OciConfig, SomeDigest, 2) };

        foreach (var m in new[] { manifest, minimal })
        {
            var expected = JsonSerializer.SerializeToUtf8Bytes(m, OldImageOptions);
            AssertSameBytes(expected, m.ToJson());
            AssertSameBytes(expected, ImageManifest.FromJson(expected).ToJson());
        }
    }

    [Fact]
    public void An_index_is_written_and_read_as_reflection_did()
    {
        var index = new ImageIndex
        {
            Manifests =
            [
                new Descriptor(MediaTypes.OciManifest, SomeDigest, 500) { Platform = new Platform("arm", "linux") { Variant = "v7" } },
                new Descriptor(MediaTypes.OciManifest, OtherDigest, 501)
                {
                    Platform = new Platform("amd64", "linux"),
                    Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = "latest" },
                },
            ],
            Annotations = new Dictionary<string, string> { ["x"] = Awkward },
        };

        var expected = JsonSerializer.SerializeToUtf8Bytes(index, OldImageOptions);
        AssertSameBytes(expected, index.ToJson());
        AssertSameBytes(expected, ImageIndex.FromJson(expected).ToJson());
        AssertSameBytes(JsonSerializer.SerializeToUtf8Bytes(new ImageIndex(), OldImageOptions), new ImageIndex().ToJson());
    }

    [Fact]
    public void A_cache_config_is_written_and_read_as_reflection_did()
    {
        var cache = new CacheConfig
        {
            Records =
            [
                new CacheRecord(SomeDigest, [OtherDigest, SomeDigest],
                    [new CacheLayer(new Descriptor(MediaTypes.OciLayerGzip, SomeDigest, 42), OtherDigest)]) { Description = "RUN " + Awkward },
                new CacheRecord(OtherDigest, [], [new CacheLayer(new Descriptor(MediaTypes.OciLayer, OtherDigest, 7), OtherDigest)]),
            ],
        };

        var expected = JsonSerializer.SerializeToUtf8Bytes(cache, OldImageOptions);
        AssertSameBytes(expected, cache.ToJson());
        AssertSameBytes(expected, CacheConfig.FromJson(expected).ToJson());
    }

    [Fact]
    public void Fields_a_document_lacks_keep_their_defaults_as_with_reflection()
    {
        // The source generator alone would leave absent init-only properties null or 0 (dotnet/runtime#84484).
        var config = ImageConfig.FromJson("""{"rootfs":{}}"""u8);
        Assert.Equal(Platform.Host.Architecture, config.Architecture);
        Assert.Equal("linux", config.Os);
        Assert.NotNull(config.Config);
        Assert.Equal("layers", config.RootFs.Type);
        Assert.Empty(config.RootFs.DiffIds);
        Assert.Empty(config.History);
        AssertSameBytes(new ImageConfig().ToJson(), config.ToJson());

        var configJson = """{"config":{"Cmd":["sh"]}}"""u8.ToArray();
        AssertSameBytes(JsonSerializer.SerializeToUtf8Bytes(JsonSerializer.Deserialize<ImageConfig>(configJson, OldImageOptions), OldImageOptions),
            ImageConfig.FromJson(configJson).ToJson());

        var manifestJson = $$$"""{"config":{"mediaType":"{{{MediaTypes.OciConfig}}}","digest":"{{{SomeDigest}}}","size":2}}""";
        var manifest = ImageManifest.FromJson(System.Text.Encoding.UTF8.GetBytes(manifestJson));
        Assert.Equal((2, MediaTypes.OciManifest), (manifest.SchemaVersion, manifest.MediaType));
        Assert.Empty(manifest.Layers);
        AssertSameBytes(new ImageManifest { Config = manifest.Config }.ToJson(), manifest.ToJson());

        var index = ImageIndex.FromJson("{}"u8);
        Assert.Equal((2, MediaTypes.OciIndex), (index.SchemaVersion, index.MediaType));
        Assert.Empty(index.Manifests);

        var cache = CacheConfig.FromJson("{}"u8);
        Assert.Equal(1, cache.Version);
        Assert.Empty(cache.Records);
    }

    [Fact]
    public void A_manifest_without_its_config_is_refused_as_with_reflection()
    {
        // Config is a C# required member, which both serializers treat as a required JSON property.
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ImageManifest>("{}"u8, OldImageOptions));
        Assert.Throws<JsonException>(() => ImageManifest.FromJson("{}"u8));
    }

    private static ImageConfig FullImageConfig() => new()
    {
        Architecture = "arm",
        Os = "linux",
        Variant = "v7",
        Author = Awkward,
        Created = new DateTimeOffset(2024, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2)).AddTicks(9),
        Config = new ContainerConfig
        {
            User = "app:staff",
            ExposedPorts = new Dictionary<string, EmptyObject> { ["80/tcp"] = new(), ["53/udp"] = new() },
            Env = ["PATH=/usr/local/bin:/usr/bin", "QUOTE=" + Awkward],
            Entrypoint = ["/entry", "--flag=<x>"],
            Cmd = ["serve"],
            Volumes = new Dictionary<string, EmptyObject> { ["/data"] = new() },
            WorkingDir = "/app",
            Labels = new Dictionary<string, string> { ["org.opencontainers.image.source"] = "https://example.com/r?x=1&y=2", ["é"] = Awkward },
            StopSignal = "SIGTERM",
            Healthcheck = new HealthConfig
            {
                Test = ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
                Interval = 30_000_000_000,
                Timeout = 5_000_000_000,
                StartPeriod = 0,
                StartInterval = 1_000_000_000,
                Retries = 3,
            },
            OnBuild = ["RUN echo 'built on' > /x"],
            Shell = ["/bin/bash", "-c"],
            ArgsEscaped = true,
        },
        RootFs = new RootFs { DiffIds = [SomeDigest, OtherDigest] },
        History =
        [
            new HistoryEntry { Created = DateTimeOffset.UnixEpoch, CreatedBy = "/bin/sh -c #(nop) ADD file:" + Awkward, Author = "me", Comment = "buildkit.dockerfile.v0", EmptyLayer = true },
            new HistoryEntry { CreatedBy = "RUN true" },
            new HistoryEntry(),
        ],
        InlineCache = JsonDocument.Parse("""{"version":1,"records":[{"key":"k","description":"\u00e9 <x>"}]}""").RootElement.Clone(),
    };

    private static void AssertSameBytes(byte[] expected, byte[] actual)
    {
        // As text first, for a readable difference; then the bytes themselves.
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
    }
}
