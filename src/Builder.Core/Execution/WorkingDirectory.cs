using Builder.Core.Filesystem;

namespace Builder.Core.Execution;

/// <summary>
/// Creates a RUN step's working directory when the image lacks it, owned by the user the step
/// runs as (Docker and BuildKit do the same, so `USER app` + `WORKDIR /x` gives app a writable /x).
/// Unlike mount-point stubs these directories stay: they are part of the step's result.
/// </summary>
internal static class WorkingDirectory
{
    public static void EnsureExists(string rootfs, string workingDir, ExecUser user)
    {
        if (workingDir.Length == 0)
            return;
        var hostPath = RootedPath.Resolve(rootfs, workingDir);
        var missing = new Stack<string>();
        for (var path = hostPath; !Path.Exists(path); path = Path.GetDirectoryName(path)!)
            missing.Push(path);

        while (missing.TryPop(out var path))
        {
            Directory.CreateDirectory(path);
            ChangeOwner(path, user.Uid, user.Gid);
        }
    }

    private static void ChangeOwner(string path, uint uid, uint gid)
    {
        try
        {
            Native.SetOwner(path, uid, gid);
        }
        catch (NativeException e)
        {
            throw new ExecutionException($"cannot change the owner of the working directory {path} (errno {e.Errno})", e);
        }
    }
}
