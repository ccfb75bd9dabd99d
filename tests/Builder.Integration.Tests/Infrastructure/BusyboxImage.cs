using System.Diagnostics;

namespace Builder.Integration.Tests.Infrastructure;

/// <summary>
/// The busybox base image every integration build starts FROM: an OCI layout made once per test
/// run by testdata/images/busybox/make-layout.sh from Debian's busybox-static (no network).
/// Builds name it <c>busybox</c> through <c>--build-context busybox=oci-layout://…</c>.
/// </summary>
public sealed class BusyboxImage : IDisposable
{
    public BusyboxImage()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"builder-busybox-{Guid.NewGuid():N}");
        var script = Path.Combine(RepoPaths.Testdata, "images", "busybox", "make-layout.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(Directory);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"make-layout.sh failed: {errors}");
    }

    public string Directory { get; }

    /// <summary>The --build-context flag that makes <c>FROM busybox</c> use this layout.</summary>
    public string[] BuildContextArgs => ["--build-context", $"busybox=oci-layout://{Directory}"];

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class BusyboxCollection : ICollectionFixture<BusyboxImage>
{
    public const string Name = "busybox";
}
