using System.Text.Json;
using Builder.Integration.Tests.Infrastructure;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>One state root for a whole test class: the base image is unpacked once and cache carries between its cases.</summary>
public sealed class SharedStateRoot : IDisposable
{
    private readonly TempDir _dir = new("builder-suite-state");

    public string Path => _dir.Path;

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// The Dockerfile end-to-end suite's helpers: write a context, build it with the real CLI into an
/// OCI archive, and read back the flattened filesystem and the config.
/// </summary>
public abstract class DockerfileSuite : IDisposable
{
    private readonly BusyboxImage _busybox;
    private readonly TempDir _out = new("builder-suite-out");

    protected DockerfileSuite(BusyboxImage busybox, SharedStateRoot state)
    {
        _busybox = busybox;
        Cli = new BuilderCli(state.Path);
    }

    protected BuilderCli Cli { get; }

    protected TempDir Context { get; } = new("builder-suite-ctx");

    protected string Busybox => _busybox.Directory;

    public void Dispose()
    {
        Context.Dispose();
        _out.Dispose();
    }

    protected void Write(string path, string content) => Context.Write(path, content);

    protected string OutPath(string name) => _out.Combine(name);

    /// <summary>Builds the context with <paramref name="dockerfile"/> and asserts success.</summary>
    protected async Task<OciArchive> BuildAsync(string dockerfile, params string[] extra)
    {
        var (result, image) = await TryBuildAsync(dockerfile, extra);
        Assert.True(result.ExitCode == 0, $"build failed ({result.ExitCode}):\n{result.Output}");
        return image!;
    }

    /// <summary>Builds and asserts failure; the result carries the error text.</summary>
    protected async Task<CliResult> BuildFailsAsync(string dockerfile, params string[] extra)
    {
        var (result, _) = await TryBuildAsync(dockerfile, extra);
        Assert.True(result.ExitCode != 0, $"build unexpectedly succeeded:\n{result.Output}");
        Assert.DoesNotContain("   at ", result.Stderr);
        return result;
    }

    protected async Task<(CliResult Result, OciArchive? Image)> TryBuildAsync(string dockerfile, params string[] extra)
    {
        Write("Dockerfile", dockerfile);
        return await Cli.BuildOciAsync(Context.Path, _out.Combine($"image-{Guid.NewGuid():N}.tar"), [.. _busybox.BuildContextArgs, .. extra]);
    }

    protected static JsonElement ConfigOf(OciArchive image) => image.Config.GetProperty("config");

    protected static IReadOnlyList<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    protected static IReadOnlyList<string> EnvOf(OciArchive image) => Strings(ConfigOf(image).GetProperty("Env"));

    protected static LayerEntry Entry(OciArchive image, string path) =>
        image.Flatten().TryGetValue(path, out var entry) ? entry : throw new Xunit.Sdk.XunitException($"{path} is not in the image; it has {string.Join(", ", image.Flatten().Keys.Where(k => !k.StartsWith("bin/", StringComparison.Ordinal)).Take(60))}");

    protected static void AssertFile(OciArchive image, string path, string content) => Assert.Equal(content, image.FileText(path));

    protected static void AssertAbsent(OciArchive image, string path) => Assert.False(image.Flatten().ContainsKey(path), $"{path} should not be in the image");

    protected static IReadOnlyList<string> History(OciArchive image) =>
        image.Config.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("created_by").GetString()!).ToList();
}
