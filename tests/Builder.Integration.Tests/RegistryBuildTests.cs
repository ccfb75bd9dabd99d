using Builder.Core.Tests.Registry;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>Builds that start FROM and end in a real registry on loopback.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class RegistryBuildTests(BusyboxImage busybox) : IDisposable
{
    private readonly RegistryServer _registry = RegistryServer.StartPlain();
    private readonly TempDir _first = new("builder-state-a");
    private readonly TempDir _second = new("builder-state-b");
    private readonly TempDir _context = new("builder-ctx");

    public void Dispose()
    {
        _registry.Dispose();
        _first.Dispose();
        _second.Dispose();
        _context.Dispose();
    }

    /// <summary>Builds busybox plus <paramref name="step"/> in the first state root and pushes it as <paramref name="repositoryAndTag"/>; returns the full name.</summary>
    private async Task<string> PushFromFirstRootAsync(string repositoryAndTag, string step)
    {
        var name = $"{_registry.Address}/{repositoryAndTag}";
        _context.Write("Dockerfile", $"FROM busybox\n{step}\n");
        var push = await new BuilderCli(_first.Path).RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "--push", "-t", name, _context.Path]);
        Assert.True(push.ExitCode == 0, push.Output);
        return name;
    }

    [Fact]
    public async Task A_pushed_image_is_readable_by_skopeo_and_buildable_from_an_empty_state_root()
    {
        var name = await PushFromFirstRootAsync("team/app:1", "RUN head -c 16 /dev/urandom | od -An -tx1 > /stamp");

        var inspect = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}");
        Assert.True(inspect.ExitCode == 0, inspect.Output);

        // The registry gets gzip layers; the local store keeps them uncompressed (compressed only to push).
        var raw = await ExternalTool.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{name}");
        var pushedLayers = System.Text.Json.JsonDocument.Parse(raw.Stdout).RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.All(pushedLayers, l => Assert.EndsWith("tar+gzip", l.GetProperty("mediaType").GetString()));
        var local = await new BuilderCli(_first.Path).RunAsync("inspect", name);
        Assert.Equal(0, local.ExitCode);

        _context.Write("Dockerfile", $"FROM {name}\nRUN cat /stamp > /copy\n");
        var tar = _context.Combine("out.tar");
        var build = await new BuilderCli(_second.Path).RunAsync(["build", "--progress", "plain", "-o", $"type=oci,dest={tar}", _context.Path]);
        Assert.True(build.ExitCode == 0, build.Output);
        var image = OciArchive.Load(tar);
        Assert.Equal(image.FileText("stamp"), image.FileText("copy"));
        Assert.Equal(16, image.FileText("stamp").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task A_base_a_build_pulls_is_kept_by_name_so_the_next_build_needs_no_registry()
    {
        var name = await PushFromFirstRootAsync("team/base:1", "RUN echo base > /stamp");

        _context.Write("Dockerfile", $"FROM {name}\nRUN cat /stamp > /copy\n");
        var pulled = await new BuilderCli(_second.Path).RunAsync(["build", "--progress", "plain", _context.Path]);
        Assert.True(pulled.ExitCode == 0, pulled.Output);
        var images = await new BuilderCli(_second.Path).RunAsync("images");
        Assert.Contains("team/base", images.Stdout);

        // With the registry gone, only the kept copy can serve the base.
        _registry.Dispose();
        _context.Write("Dockerfile", $"FROM {name}\nRUN cat /stamp > /again\n");
        var offline = await new BuilderCli(_second.Path).RunAsync(["build", "--progress", "plain", _context.Path]);
        Assert.True(offline.ExitCode == 0, offline.Output);
    }

    [Fact]
    public async Task A_missing_image_is_a_clear_error_naming_the_line()
    {
        _context.Write("Dockerfile", $"FROM {_registry.Address}/nothing/here:1\n");
        var result = await new BuilderCli(_first.Path).RunAsync(["build", "--progress", "plain", _context.Path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Dockerfile:1", result.Stderr);
        Assert.Contains("nothing/here", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
