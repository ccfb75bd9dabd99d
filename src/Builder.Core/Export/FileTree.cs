namespace Builder.Core.Export;

/// <summary>A walk of a directory tree in a fixed order, for exporters that must give the same output for the same tree.</summary>
internal static class FileTree
{
    /// <summary>Every path under <paramref name="root"/> (not the root itself), parents first, siblings in ordinal order; symlinks are not followed.</summary>
    public static IEnumerable<(string Path, string Name, FileStatus Status)> SortedEntries(string root)
    {
        var pending = new Stack<(string Path, string Name)>();
        PushChildren(root, "");
        while (pending.Count > 0)
        {
            var (path, name) = pending.Pop();
            var status = FileStatus.Lstat(path);
            yield return (path, name, status);
            if (status.Kind == FileKind.Directory) PushChildren(path, name + "/");
        }

        void PushChildren(string directory, string prefix)
        {
            var children = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>()
                .OrderDescending(StringComparer.Ordinal);
            foreach (var child in children) pending.Push((Path.Combine(directory, child), prefix + child));
        }
    }
}
