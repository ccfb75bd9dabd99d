namespace Builder.Core.State;

/// <summary>
/// An exclusive hold on a state root, so two builder processes never write one store at once.
/// .NET takes FileShare.None as an flock(2) on Unix, which the kernel releases when the process
/// dies — a crashed builder never leaves a stale lock behind.
/// </summary>
public sealed class StateLock : IDisposable
{
    private readonly FileStream _file;

    private StateLock(FileStream file) => _file = file;

    /// <summary>Waits until the lock is free; calls <paramref name="onWaiting"/> once if it has to wait.</summary>
    public static async Task<StateLock> AcquireAsync(StateRoot root, Action? onWaiting, CancellationToken ct)
    {
        root.EnsureCreated();
        var told = false;
        while (true)
        {
            try
            {
                return new StateLock(new FileStream(root.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                if (!told) { onWaiting?.Invoke(); told = true; }
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
