using Builder.Core.Graph;
using Builder.Core.Ops;
using Builder.Core.Solver;

namespace Builder.Core.Engine;

/// <summary>The op workers of one engine, by op kind.</summary>
public sealed class OpWorkers(ImageSourceWorker image, LocalSourceWorker local, ExecWorker exec, FileWorker file, HttpSourceWorker http) : IOpWorkers
{
    public IOpWorker For(Op op) => op switch
    {
        ImageSourceOp => image,
        LocalSourceOp => local,
        ExecOp => exec,
        FileOp => file,
        HttpSourceOp => http,
        _ => throw new NotSupportedException($"no worker for {op.GetType().Name}"),
    };
}
