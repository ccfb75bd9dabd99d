using Builder.Build;
using Builder.Core.Engine;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary>Builds in this process on <c>$BUILDER_ROOT</c>, holding the root's lock for the duration.</summary>
public static class EmbeddedEngine
{
    public static async Task<BuildResult> BuildAsync(BuildRequest request, IBuildProgress progress, CancellationToken ct)
    {
        var root = StateRoot.FromEnvironment();
        using var stateLock = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine($"waiting for another builder to release {root.Path} ..."), ct);
        await using var worker = await Worker.OpenAsync(root, ct);
        return await new BuildRunner(worker).RunAsync(request, progress, ct);
    }
}
