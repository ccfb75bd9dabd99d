using Builder.Core.State;

namespace Builder.Core.Context;

/// <summary>
/// The stat caches of the context roots one worker checksums, kept across builds: in the daemon,
/// which builds the same context mirror again and again, a root's rows are read from the database
/// once rather than on every build (for a 20,000-file context that read was a sixth of an
/// unchanged rebuild). At most <paramref name="capacity"/> roots stay in memory; the least
/// recently used one is dropped, its rows staying in the database.
/// </summary>
public sealed class ContextStatCaches(StateRoot state, int capacity = 16)
{
    private readonly object _gate = new();
    private readonly LinkedList<ContextStatCache> _recent = new();

    public ContextStatCache For(string root)
    {
        var fullRoot = Path.GetFullPath(root);
        lock (_gate)
        {
            var node = _recent.First;
            while (node is not null && node.Value.Root != fullRoot) node = node.Next;
            if (node is null) node = new LinkedListNode<ContextStatCache>(new ContextStatCache(state, fullRoot));
            else _recent.Remove(node);
            _recent.AddFirst(node);
            if (_recent.Count > capacity) _recent.RemoveLast();
            return node.Value;
        }
    }
}
