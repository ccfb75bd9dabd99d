using System.Text;
using BenchmarkDotNet.Attributes;
using Builder.Frontends.Dockerfile.Parsing;
using DockerfileModel = Builder.Frontends.Dockerfile.Instructions.Dockerfile;

namespace Builder.Benchmarks;

/// <summary>
/// Parses a generated Dockerfile of N instructions (~1 MB at 10,000): RUN with continuations,
/// COPY with flags, ENV, LABEL and heredocs. Comparing N=10,000 with N=20,000 shows whether
/// parsing time grows linearly with the file.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private string _text = "";

    [Params(10_000, 20_000)]
    public int Instructions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _text = Generate(Instructions);
        Console.WriteLine($"// {Instructions} instructions, {_text.Length / 1024.0 / 1024.0:F2} M chars");
    }

    [Benchmark]
    public ParseResult ParseAst() => DockerfileParser.Parse(_text);

    [Benchmark]
    public DockerfileModel ParseTyped() => DockerfileModel.Parse(_text);

    public static string Generate(int instructions)
    {
        var text = new StringBuilder("# syntax=docker/dockerfile:1\nFROM alpine:3.20 AS base\n");
        for (var i = 0; i < instructions - 1; i++)
        {
            text.Append((i % 5) switch
            {
                0 => $"RUN apt-get update \\\n    && apt-get install -y package-{i} curl ca-certificates \\\n    # a comment inside the continuation\n    && rm -rf /var/lib/apt/lists/* /tmp/build-{i}\n",
                1 => $"COPY --from=base --chown=app:app --chmod=0644 --link src/module-{i}/ /app/module-{i}/\n",
                2 => $"ENV VAR_{i}=\"value {i} with spaces\" OTHER_{i}=plain\\ value PATH=/opt/{i}/bin:$PATH\n",
                3 => $"LABEL org.example.item-{i}=\"item {i}\" org.example.note=\"some longer description text here\"\n",
                _ => $"RUN <<EOF\nset -eux\necho building step {i} with a heredoc body line\nmake target-{i}\nEOF\n",
            });
        }
        return text.ToString();
    }
}
