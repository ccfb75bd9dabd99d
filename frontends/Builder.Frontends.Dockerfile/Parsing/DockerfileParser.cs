using System.Text;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// Parses Dockerfile text into BuildKit-shaped AST nodes. Reads the file once, line by line:
/// directives at the top, comments and blank lines skipped, continuation lines joined, heredoc
/// bodies collected after the line that announces them.
/// </summary>
public static class DockerfileParser
{
    /// <exception cref="DockerfileException">The text is not a Dockerfile.</exception>
    public static ParseResult Parse(string text, string fileName = "Dockerfile") =>
        new LineReader(new DockerfileSource(fileName, text)).ReadAll();

    /// <summary>The state of one pass over the physical lines.</summary>
    private sealed class LineReader(DockerfileSource source)
    {
        private readonly DirectiveReader _directives = new(source);
        private readonly List<Node> _nodes = [];
        private readonly List<string> _warnings = [];
        private int _current; // the last physical line consumed, 1-based

        private bool HasMoreLines => _current < source.LineCount;

        public ParseResult ReadAll()
        {
            while (HasMoreLines)
            {
                ReadInstructionStartingAt(NextLine());
            }
            if (_nodes.Count == 0)
            {
                throw source.Error("file with no instructions", Math.Max(_current, 1));
            }
            if (_warnings.Count > 0)
            {
                _warnings.Add("[WARNING]: Empty continuation lines will become errors in a future release.");
            }
            return new ParseResult(_directives.Directives, _nodes, [.. _directives.Warnings, .. _warnings],
                _directives.EscapeToken, source);
        }

        private PhysicalLine NextLine() => source[++_current];

        private void ReadInstructionStartingAt(PhysicalLine first)
        {
            var trimmed = first.Text.TrimStart();
            _directives.Inspect(trimmed, _current);
            var content = IsComment(trimmed) ? "" : trimmed;
            var (text, ended) = TrimContinuation(content);
            if (ended && text.Length == 0)
            {
                return; // blank line or comment
            }

            var startLine = _current;
            var column = first.Text.Length - trimmed.Length + 1;
            var line = new LogicalLine();
            line.Append(text, startLine, column);
            var hasEmptyContinuationLine = false;
            while (!ended && HasMoreLines)
            {
                var next = NextLine();
                _directives.Inspect(next.Text, _current);
                if (IsComment(next.Text.TrimStart()))
                {
                    continue; // comments inside a continuation are dropped
                }
                if (string.IsNullOrWhiteSpace(next.Text))
                {
                    hasEmptyContinuationLine = true;
                    continue;
                }
                (text, ended) = TrimContinuation(next.Text);
                line.Append(text, _current, 1);
            }
            if (hasEmptyContinuationLine)
            {
                _warnings.Add("[WARNING]: Empty continuation line found in:\n    " + line.Text);
            }

            var syntax = new InstructionSyntax(source, _directives.EscapeToken);
            var node = syntax.Parse(line, startLine, _current, column);
            if (InstructionSyntax.CanContainHeredoc(node) && line.Text.Contains("<<"))
            {
                node = node with { Heredocs = ReadHeredocBodies(line.Text, startLine, column) };
            }
            _nodes.Add(node with { EndLine = _current });
        }

        private List<Heredoc> ReadHeredocBodies(string line, int startLine, int column)
        {
            var heredocs = new List<Heredoc>();
            foreach (var marker in HeredocMarkers.Find(line))
            {
                var content = new StringBuilder();
                var terminated = false;
                while (HasMoreLines)
                {
                    var next = NextLine();
                    var candidate = marker.Chomp ? next.Text.TrimStart('\t') : next.Text;
                    if (candidate == marker.Name)
                    {
                        terminated = true;
                        break;
                    }
                    content.Append(next.Raw);
                }
                if (!terminated)
                {
                    throw source.Error($"unterminated heredoc {marker.Name}", startLine, column);
                }
                heredocs.Add(new Heredoc(marker.Name, content.ToString(), marker.Expand, marker.Chomp));
            }
            return heredocs;
        }

        private static bool IsComment(string trimmedLine) => trimmedLine.StartsWith('#');

        /// <summary>
        /// A line continues when its last non-blank character is the escape token, unless that token
        /// is itself escaped (<c>\\</c>). Returns the line without the token and trailing blanks.
        /// </summary>
        private (string Text, bool Ended) TrimContinuation(string line)
        {
            var escape = _directives.EscapeToken;
            var end = line.Length;
            while (end > 0 && line[end - 1] is ' ' or '\t')
            {
                end--;
            }
            var continues = end > 0 && line[end - 1] == escape && (end == 1 || line[end - 2] != escape);
            return continues ? (line[..(end - 1)], false) : (line, true);
        }
    }
}
