using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests;

/// <summary>
/// Heredocs in real builds, case by case the behaviours BuildKit's heredoc tests pin down (in our own
/// Dockerfiles): RUN bodies run by the shell or as a script, several heredocs handed to the shell,
/// <c>&lt;&lt;-</c> tab stripping, quoting and expansion, COPY creating files with --chmod/--chown.
/// </summary>
[Collection(BusyboxCollection.Name)]
public sealed class HeredocBuildTests(BusyboxImage busybox, SharedStateRoot shared) : IClassFixture<SharedStateRoot>, IDisposable
{
    private readonly TempDir _context = new("builder-ctx");
    private readonly TempDir _out = new("builder-out");

    public void Dispose()
    {
        _context.Dispose();
        _out.Dispose();
    }

    private async Task<OciArchive> BuildAsync(string dockerfile, params string[] extra)
    {
        _context.Write("Dockerfile", dockerfile);
        var tar = _out.Combine($"image-{Guid.NewGuid():N}.tar");
        return (await new BuilderCli(shared.State.Path).BuildOciOkAsync(_context.Path, tar, [.. busybox.BuildContextArgs, .. extra])).Image;
    }

    [Fact]
    public async Task Run_heredoc_bodies_run_line_by_line_in_the_shell()
    {
        var image = await BuildAsync("""
            FROM busybox
            RUN <<EOF
            echo "first line" > /out
            id -un >> /out
            EOF
            """);
        Assert.Equal("first line\nroot\n", image.FileText("out"));
    }

    [Fact]
    public async Task A_heredoc_body_goes_to_whatever_shell_is_set()
    {
        var image = await BuildAsync("""
            FROM busybox
            SHELL ["/bin/awk"]
            RUN <<EOF
            BEGIN { print "from awk" > "/out" }
            EOF
            """);
        Assert.Equal("from awk\n", image.FileText("out"));
    }

    [Fact]
    public async Task A_heredoc_with_a_shebang_runs_as_a_script_and_dash_strips_its_tabs()
    {
        var image = await BuildAsync("FROM busybox\nWORKDIR /w\n"
            + "RUN <<EOF\n#!/bin/awk -f\nBEGIN {\n\tprint \"one\" > \"./plain\"\n\tprint \"two\" >> \"./plain\"\n}\nEOF\n"
            + "RUN <<-EOF\n\t#!/bin/awk -f\n\tBEGIN {\n\t\tprint \"stripped\" > \"./dashed\"\n\t}\n\tEOF\n");
        Assert.Equal("one\ntwo\n", image.FileText("w/plain"));
        Assert.Equal("stripped\n", image.FileText("w/dashed"));
        Assert.DoesNotContain(image.Layers.SelectMany(l => l), e => e.Path.StartsWith("dev/"));
    }

    [Fact]
    public async Task Several_heredocs_in_one_run_are_redirections_the_shell_performs()
    {
        var image = await BuildAsync("""
            FROM busybox
            WORKDIR /w
            RUN cat <<ONE | tr 'a-z' 'A-Z' > ./upper; cat <<TWO | tr 'A-Z' 'a-z' > ./lower
            shout this
            ONE
            WHISPER THAT
            TWO
            RUN <<PROG 3<<DATA awk -f -
            BEGIN { while ((getline line < "/proc/self/fd/3") > 0) print "got " line > "./fd3" }
            PROG
            via descriptor three
            DATA
            """);
        Assert.Equal("SHOUT THIS\n", image.FileText("w/upper"));
        Assert.Equal("whisper that\n", image.FileText("w/lower"));
        Assert.Equal("got via descriptor three\n", image.FileText("w/fd3"));
    }

    [Fact]
    public async Task Dash_heredocs_strip_leading_tabs_and_plain_ones_keep_them()
    {
        var image = await BuildAsync("FROM busybox\nRUN mkdir /d\n"
            + "COPY <<EOF /d/copy-kept\n\tkept\nEOF\n"
            + "COPY <<-EOF /d/copy-stripped\n\tstripped\n\tEOF\n"
            + "RUN <<EOF\necho \"\n\tkept\" > /d/run-kept\nEOF\n"
            + "RUN <<-EOF\necho \"\n\tstripped\" > /d/run-stripped\nEOF\n"
            + "RUN <<EOF sh > /d/pipe-kept\necho \"\n\tkept\"\nEOF\n"
            + "RUN <<-EOF sh > /d/pipe-stripped\necho \"\n\tstripped\"\nEOF\n");
        Assert.Equal("\tkept\n", image.FileText("d/copy-kept"));
        Assert.Equal("stripped\n", image.FileText("d/copy-stripped"));
        Assert.Equal("\n\tkept\n", image.FileText("d/run-kept"));
        Assert.Equal("\nstripped\n", image.FileText("d/run-stripped"));
        Assert.Equal("\n\tkept\n", image.FileText("d/pipe-kept"));
        Assert.Equal("\nstripped\n", image.FileText("d/pipe-stripped"));
    }

    [Fact]
    public async Task Copy_heredocs_expand_unless_the_delimiter_is_quoted_and_keep_quotes_as_text()
    {
        var image = await BuildAsync("""
            FROM busybox
            ARG who=world
            COPY <<EOF /d/expanded
            Hello ${who}!
            EOF
            COPY <<'EOF' /d/single-quoted
            Hello ${who}!
            EOF
            COPY <<"EOF" /d/double-quoted
            Hello ${who}!
            EOF
            COPY <<EOF /d/quotes
            Hello '${who}' and "${who}"
            EOF
            COPY <<EOF /d/escapes
            \$ and \\
            EOF
            COPY <<"EOF" /d/raw-escapes
            \$ and \\
            EOF
            RUN <<EOF
            greeting=Hi
            echo "${greeting} ${who}!" > /d/run-arg
            EOF
            RUN <<EOF
            who="shell var"
            echo "${who}" > /d/run-shell
            EOF
            """);
        Assert.Equal("Hello world!\n", image.FileText("d/expanded"));
        Assert.Equal("Hello ${who}!\n", image.FileText("d/single-quoted"));
        Assert.Equal("Hello ${who}!\n", image.FileText("d/double-quoted"));
        Assert.Equal("Hello 'world' and \"world\"\n", image.FileText("d/quotes"));
        Assert.Equal("$ and \\\n", image.FileText("d/escapes"));
        Assert.Equal("\\$ and \\\\\n", image.FileText("d/raw-escapes"));
        Assert.Equal("Hi world!\n", image.FileText("d/run-arg"));
        Assert.Equal("shell var\n", image.FileText("d/run-shell"));
    }

    [Fact]
    public async Task Copy_heredocs_make_files_and_directories_with_chmod_and_chown()
    {
        var image = await BuildAsync("""
            FROM busybox
            RUN echo "hduser:x:1234:1234::/home/hduser:/bin/sh" >> /etc/passwd && echo "hdgroup:x:1234:" >> /etc/group
            WORKDIR /dest
            COPY <<EOF single
            one file
            EOF
            COPY <<EOF <<EOF2 both/
            first
            EOF
            second
            EOF2
            COPY --chmod=0751 <<EOF /perm/x
            x
            EOF
            COPY --chown=hduser:hdgroup <<EOF /perm/owned
            o
            EOF
            """);
        var fs = image.Flatten();
        Assert.Equal("one file\n", image.FileText("dest/single"));
        Assert.Equal("first\n", image.FileText("dest/both/EOF"));
        Assert.Equal("second\n", image.FileText("dest/both/EOF2"));
        Assert.Equal(Convert.ToInt32("751", 8), fs["perm/x"].Mode & 0xFFF);
        Assert.Equal(Convert.ToInt32("644", 8), fs["dest/single"].Mode & 0xFFF);
        Assert.Equal((1234, 1234), (fs["perm/owned"].Uid, fs["perm/owned"].Gid));
        Assert.Equal((0, 0), (fs["dest/single"].Uid, fs["dest/single"].Gid));

        var history = image.Config.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("created_by").GetString()).ToList();
        Assert.Contains("COPY <<EOF <<EOF2 both/ # buildkit", history);
    }

    [Fact]
    public async Task An_unchanged_heredoc_is_cached_and_a_changed_body_runs_again()
    {
        var marker = Guid.NewGuid().ToString("N");
        await BuildAsync($"FROM busybox\nRUN <<EOF\necho {marker} > /m\nEOF\n");
        _context.Write("Dockerfile", $"FROM busybox\nRUN <<EOF\necho {marker} > /m\nEOF\n");
        var tar = _out.Combine("again.tar");
        var again = await new BuilderCli(shared.State.Path).RunAsync(["build", "--progress", "plain", .. busybox.BuildContextArgs, "-o", $"type=oci,dest={tar}", _context.Path]);
        Assert.Contains("CACHED", again.Output);

        var changed = await BuildAsync($"FROM busybox\nRUN <<EOF\necho {marker}-2 > /m\nEOF\n");
        Assert.Equal($"{marker}-2\n", changed.FileText("m"));
    }
}
