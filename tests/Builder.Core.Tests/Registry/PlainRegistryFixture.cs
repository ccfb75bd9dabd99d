using System.Diagnostics;
using Builder.Core.Oci;
using Builder.Core.Registry;

namespace Builder.Core.Tests.Registry;

/// <summary>One plain-HTTP registry shared by a test class; tests keep apart by repository name.</summary>
public sealed class PlainRegistryFixture : IDisposable
{
    public RegistryServer Server { get; } = RegistryServer.StartPlain();

    public void Dispose() => Server.Dispose();
}

/// <summary>A state root with a content store and registry clients whose traffic is counted: one side of a push or pull.</summary>
public sealed class RegistrySide : IDisposable
{
    private readonly TempStateRoot _state = new();

    public RegistrySide(RegistryOptions? options = null)
    {
        Content = new ContentStore(_state.Root);
        Locations = new Builder.Core.Registry.BlobLocations(_state.Root);
        options ??= new RegistryOptions();
        Registries = new RegistryClientFactory(options with
        {
            RetryDelay = TimeSpan.FromMilliseconds(10),
            WrapHandler = inner => Traffic = new CountingHandler(options.WrapHandler?.Invoke(inner) ?? inner),
        });
    }

    public string RootPath => _state.Root.Path;
    public ContentStore Content { get; }
    public Builder.Core.Registry.BlobLocations Locations { get; }
    public RegistryClientFactory Registries { get; }
    public CountingHandler Traffic { get; private set; } = new(new HttpClientHandler());

    public RegistryImageResolver Resolver(bool alwaysPull = false) => new(Registries, Content, Locations) { AlwaysPull = alwaysPull };
    public RegistryPusher Pusher() => new(Registries, Content, Locations);

    public void Dispose()
    {
        Registries.Dispose();
        _state.Dispose();
    }
}

public static class Skopeo
{
    public static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("skopeo", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"skopeo {string.Join(' ', args)} failed: {await stderr}");
        return await stdout;
    }
}
