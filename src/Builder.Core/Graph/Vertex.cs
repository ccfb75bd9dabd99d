using System.Collections.Immutable;

namespace Builder.Core.Graph;

/// <summary>Where a vertex came from, for messages: <c>Dockerfile:12</c>.</summary>
public sealed record SourceLocation(string File, int Line, int EndLine = 0)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// A node of the build graph: an op over input vertices. Its <see cref="Digest"/> is derived
/// from the op and the inputs' digests only — <see cref="Name"/> and <see cref="Location"/> are
/// for people and never change identity.
/// </summary>
public sealed class Vertex
{
    private readonly Lazy<Digest> _digest;

    public Vertex(Op op, ImmutableArray<Vertex> inputs, string name, SourceLocation? location = null)
    {
        Op = op;
        Inputs = inputs.IsDefault ? ImmutableArray<Vertex>.Empty : inputs;
        Name = name;
        Location = location;
        _digest = new Lazy<Digest>(() => CanonicalEncoding.VertexDigest(Op, Inputs.Select(i => i.Digest)));
    }

    public Vertex(Op op, string name, SourceLocation? location = null, params Vertex[] inputs)
        : this(op, [.. inputs], name, location) { }

    public Op Op { get; }
    public ImmutableArray<Vertex> Inputs { get; }

    /// <summary>Progress label, e.g. <c>[stage 2/4] RUN make</c>.</summary>
    public string Name { get; }

    public SourceLocation? Location { get; }

    public Digest Digest => _digest.Value;

    public override string ToString() => $"{Name} ({Digest.Short})";
}

/// <summary>An immutable build graph ending at one result vertex (null: an empty filesystem, FROM scratch).</summary>
public sealed record Definition(Vertex? Root)
{
    /// <summary>Every vertex once, inputs before the vertices that read them.</summary>
    public IReadOnlyList<Vertex> TopologicalOrder()
    {
        var order = new List<Vertex>();
        var seen = new HashSet<Digest>();
        if (Root is not null) Visit(Root);
        return order;

        void Visit(Vertex vertex)
        {
            if (!seen.Add(vertex.Digest)) return;
            foreach (var input in vertex.Inputs) Visit(input);
            order.Add(vertex);
        }
    }
}
