using Builder.Core.Export;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

/// <summary>A state root with real content, image and layer stores over a fake snapshotter and a counting differ.</summary>
public sealed class ExportFixture : IDisposable
{
    public ExportFixture()
    {
        Content = new ContentStore(State.Root);
        Images = new ImageStore(State.Root);
        Snapshotter = new FakeSnapshotter(State.Scratch("snapshots"));
        Layers = new LayerStore(State.Root, Content, Snapshotter, Differ);
        Assembler = new ImageAssembler(Content, Layers);
    }

    public TempStateRoot State { get; } = new();
    public ContentStore Content { get; }
    public ImageStore Images { get; }
    public FakeSnapshotter Snapshotter { get; }
    public CountingLayerDiffer Differ { get; } = new();
    public LayerStore Layers { get; }
    public ImageAssembler Assembler { get; }

    /// <summary>A two-snapshot chain: a base with a few files, then a change on top. Returns the top id.</summary>
    public string AddSampleChain()
    {
        Snapshotter.Add("base", null, dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "etc"));
            File.WriteAllText(Path.Combine(dir, "etc", "os-release"), "ID=test\n");
            Directory.CreateDirectory(Path.Combine(dir, "bin"));
            File.WriteAllText(Path.Combine(dir, "bin", "tool"), "#!/bin/sh\necho hi\n");
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(Path.Combine(dir, "bin", "tool"), (UnixFileMode)Convert.ToInt32("755", 8));
            File.CreateSymbolicLink(Path.Combine(dir, "bin", "alias"), "tool");
            SetTimes(dir);
        });
        Snapshotter.Add("app", "base", dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "app"));
            File.WriteAllBytes(Path.Combine(dir, "app", "data.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7 % 251)).ToArray());
            SetTimes(dir);
        });
        return "app";
    }

    /// <summary>
    /// Fixed mtimes, so two fixtures built at different moments give the same tars. Symlinks too
    /// (without following them): a link's own mtime is in the tar, and left alone it is the second
    /// the fixture ran in.
    /// </summary>
    public static void SetTimes(string dir)
    {
        var fixedTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        foreach (var path in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories))
            Builder.Core.Filesystem.Native.SetTimes(path, fixedTime, 0);
    }

    public void Dispose() => State.Dispose();
}
