using Builder.Core.Oci;
using Builder.Core.Solver;
using Builder.Frontends.Dockerfile;

namespace Builder.Build;

/// <summary>What the user reads when a build fails, the same from the embedded engine and from the daemon.</summary>
public static class BuildErrors
{
    /// <summary>The message for a failure that is the user's to fix; null for a bug in builder.</summary>
    public static string? Describe(Exception error) => error switch
    {
        DockerfileException dockerfile => dockerfile.Format(),
        BuildFailedException build => build.Message,
        ImageNotFoundException image => $"ERROR: {image.Message}",
        Builder.Core.Registry.RegistryException registry => $"ERROR: {registry.Message}",
        SolveException solve => $"ERROR: failed to solve: {solve.Message}",
        _ => null,
    };

    /// <summary>The message for a bug: what happened, and how to see where.</summary>
    public static string DescribeBug(Exception error) => $"ERROR: {error.Message} (this is a bug in builder; BUILDER_DEBUG=1 shows where)";
}
