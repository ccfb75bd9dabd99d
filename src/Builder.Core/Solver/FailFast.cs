using System.Runtime.ExceptionServices;

namespace Builder.Core.Solver;

/// <summary>
/// Awaiting the inputs of one vertex: when one fails, the others are no longer needed, so they
/// are cancelled instead of left running to completion for a result nobody will use.
/// </summary>
internal static class FailFast
{
    /// <summary>
    /// Like <see cref="Task.WhenAll{T}(IEnumerable{Task{T}})"/>, but on the first failure cancels
    /// <paramref name="siblings"/> (the token the other tasks run under), waits for them to stop
    /// and rethrows that first failure — not the cancellations it caused.
    /// </summary>
    public static async Task<T[]> WhenAllAsync<T>(IReadOnlyList<Task<T>> tasks, CancellationTokenSource siblings)
    {
        var pending = new List<Task<T>>(tasks);
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(finished);
            if (finished.IsFaulted)
            {
                await siblings.CancelAsync().ConfigureAwait(false);
                // The siblings' own outcomes (mostly cancellations) are noise next to the real failure.
                await ((Task)Task.WhenAll(pending)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                ExceptionDispatchInfo.Throw(finished.Exception!.InnerException!);
            }
        }
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
