using Builder.Core.Solver;

namespace Builder.Build;

/// <summary>Where a build reports: the solver's vertex events plus lines that belong to no vertex.</summary>
public interface IBuildProgress : IProgressSink
{
    /// <summary>A line that belongs to no vertex (exporting, naming the image).</summary>
    void Message(string line);

    /// <summary>A warning of the frontend (a deprecated form, an unused build arg, …).</summary>
    void Warning(string text);
}
