namespace Builder.Core.Execution;

/// <summary>
/// The cgroup of one run. The runtime creates it and normally removes it with the container, but
/// it gives up after a few quick retries while the kernel still counts exiting tasks (seen under
/// load); this removes whatever is left, in every mounted cgroup hierarchy (v1 controllers, v2).
/// </summary>
internal sealed record RunCgroup(string Path)
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(50);
    private const int Attempts = 40;

    /// <summary>
    /// Parent of the per-run cgroups. It stays, as Docker's /docker does: removing it could race
    /// with a parallel run creating its own cgroup in it.
    /// </summary>
    public const string DefaultParent = "/builder";

    public static RunCgroup For(string parent, string id) => new($"{parent.TrimEnd('/')}/{id}");

    public async Task RemoveLeftoversAsync()
    {
        foreach (var hierarchy in MountedHierarchies())
        {
            var dir = System.IO.Path.Join(hierarchy, Path);
            for (var attempt = 1; Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir); // rmdir: a cgroup's files are virtual, it goes when its tasks have gone
                }
                catch (IOException) when (attempt < Attempts)
                {
                    await Task.Delay(RetryInterval);
                }
                catch (IOException e)
                {
                    throw new ExecutionException($"the sandbox's cgroup {dir} still has processes after the run", e);
                }
            }
        }
    }

    // Mount points of cgroup and cgroup2 filesystems, from /proc/self/mountinfo
    // ("36 25 0:31 / /sys/fs/cgroup/pids rw,... shared:14 - cgroup cgroup rw,pids").
    private static IEnumerable<string> MountedHierarchies() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(" - ", 2))
            .Where(parts => parts.Length == 2 && parts[1].Split(' ')[0] is "cgroup" or "cgroup2")
            .Select(parts => parts[0].Split(' ')[4].Replace("\\040", " "));
}
