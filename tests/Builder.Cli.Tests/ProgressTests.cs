using System.Text;
using Builder.Cli.Progress;
using Builder.Core.Graph;
using Builder.Core.Solver;

namespace Builder.Cli.Tests;

public sealed class ProgressTests
{
    private static Vertex Step(string name) => new(new LocalSourceOp(name, []), name);

    [Fact]
    public void Plain_progress_numbers_steps_and_prints_whole_log_lines()
    {
        var output = new StringWriter();
        var progress = new PlainProgress(output);
        var run = Step("[2/3] RUN make");
        var copy = Step("[3/3] COPY . .");
        var start = DateTimeOffset.UnixEpoch;

        progress.Report(new VertexStarted(run, start));
        progress.Report(new VertexLog(run, start.AddSeconds(0.5), 1, Encoding.UTF8.GetBytes("hel")));
        progress.Report(new VertexCached(copy, start));
        progress.Report(new VertexLog(run, start.AddSeconds(1), 1, Encoding.UTF8.GetBytes("lo\nwor")));
        progress.Report(new VertexCompleted(run, start.AddSeconds(2), TimeSpan.FromSeconds(1.24)));

        Assert.Equal(
            "#1 [2/3] RUN make\n#2 [3/3] COPY . .\n#2 CACHED\n#1 1.000 hello\n#1 2.000 wor\n#1 DONE 1.2s\n",
            output.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void A_failure_is_reported_on_the_step_that_failed()
    {
        var output = new StringWriter();
        var progress = new PlainProgress(output);
        var run = Step("[2/2] RUN false");
        progress.Report(new VertexStarted(run, DateTimeOffset.UnixEpoch));
        progress.Report(new VertexFailed(run, DateTimeOffset.UnixEpoch, "exit code: 1"));
        Assert.EndsWith("#1 ERROR: exit code: 1\n", output.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void The_error_report_marks_the_failing_lines_of_the_dockerfile()
    {
        var run = new Vertex(new LocalSourceOp("x", []), [], "[3/4] RUN exit 3", new SourceLocation("Dockerfile", 3));
        var failure = new SolveException(run, "step failed", new InvalidOperationException("process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3"));
        var report = Builder.Build.SolveErrorReport.Format(failure, "FROM a\nRUN ok\nRUN exit 3\nRUN never\n");

        Assert.Contains("Dockerfile:3", report);
        Assert.Contains("   3 | >>> RUN exit 3", report);
        Assert.Contains("   2 |     RUN ok", report);
        Assert.EndsWith("ERROR: failed to solve: process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3", report);
    }
}
