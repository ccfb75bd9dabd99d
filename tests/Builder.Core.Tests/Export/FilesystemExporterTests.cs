using System.Formats.Tar;
using Builder.Core.Export;
using Builder.Core.Oci;

namespace Builder.Core.Tests.Export;

public sealed class FilesystemExporterTests : IDisposable
{
    private readonly ExportFixture _fixture = new();
    private readonly BuildOutput _output;

    public FilesystemExporterTests()
    {
        _output = new BuildOutput(_fixture.AddSampleChain(), new ImageConfig());
    }

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Tar_exporter_writes_the_final_filesystem()
    {
        var destination = Path.Combine(_fixture.State.Scratch("out"), "rootfs.tar");
        await new TarExporter(_fixture.Snapshotter, destination).ExportAsync(_output, new ExportOptions(), CancellationToken.None);

        var entries = new Dictionary<string, TarEntry>();
        await using (var reader = new TarReader(File.OpenRead(destination)))
            while (await reader.GetNextEntryAsync(copyData: true) is { } entry) entries.Add(entry.Name, entry);

        Assert.Equal(["app/", "app/data.bin", "bin/", "bin/alias", "bin/tool", "etc/", "etc/os-release"], entries.Keys);
        Assert.Equal(TarEntryType.SymbolicLink, entries["bin/alias"].EntryType);
        Assert.Equal("tool", entries["bin/alias"].LinkName);
        Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), entries["bin/tool"].Mode);
        Assert.Equal(300_000, entries["app/data.bin"].Length);
    }

    [Fact]
    public async Task Local_exporter_copies_the_tree_without_following_symlinks()
    {
        var destination = _fixture.State.Scratch("local");
        // A symlink already at the destination must be replaced, not written through.
        var outside = _fixture.State.Scratch("outside");
        Directory.CreateDirectory(Path.Combine(destination, "bin"));
        File.CreateSymbolicLink(Path.Combine(destination, "bin", "tool"), Path.Combine(outside, "victim"));

        await new LocalDirExporter(_fixture.Snapshotter, destination).ExportAsync(_output, new ExportOptions(), CancellationToken.None);

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal("#!/bin/sh\necho hi\n", File.ReadAllText(Path.Combine(destination, "bin", "tool")));
        Assert.Null(new FileInfo(Path.Combine(destination, "bin", "tool")).LinkTarget);
        Assert.Equal("tool", new FileInfo(Path.Combine(destination, "bin", "alias")).LinkTarget);
        Assert.Equal(300_000, new FileInfo(Path.Combine(destination, "app", "data.bin")).Length);
        if (OperatingSystem.IsLinux())
            Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), File.GetUnixFileMode(Path.Combine(destination, "bin", "tool")));
        Assert.Equal(new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(destination, "etc")));
    }
}
