namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// Turns one logical line into a <see cref="Node"/>: the instruction name, its flags, then the
/// arguments in the shape that instruction uses (exec/shell form, word list, key-value pairs…).
/// Arguments stay raw: variables are expanded later, when the Dockerfile is converted.
/// </summary>
internal sealed class InstructionSyntax(DockerfileSource source, char escapeToken)
{
    /// <summary>
    /// The name, flags and where the arguments are, as offsets into the logical line: ONBUILD's
    /// trigger is found inside the same text, so no level copies the rest of the line.
    /// </summary>
    private sealed record Head(string Keyword, IReadOnlyList<NodeFlag> Flags, int RestStart, int RestEnd)
    {
        public string Rest(LogicalLine line) => line.Text[RestStart..RestEnd];
    }

    private static readonly HashSet<string> HeredocInstructions = ["run", "copy", "add"];

    /// <summary>
    /// Parses the instruction and, for ONBUILD, the instructions it wraps. Wrapping is unwound with a
    /// loop rather than recursion, so <c>ONBUILD ONBUILD …</c> repeated thousands of times is harmless.
    /// </summary>
    public Node Parse(LogicalLine line, int startLine, int endLine, int column)
    {
        var heads = new List<Head>();
        var head = SplitHead(line, 0, line.Text.Length);
        while (head.Keyword.Equals("onbuild", StringComparison.OrdinalIgnoreCase) && head.RestStart < head.RestEnd)
        {
            heads.Add(head);
            head = SplitHead(line, head.RestStart, head.RestEnd);
        }

        var node = ParseArguments(head, line, startLine, endLine, column);
        for (var i = heads.Count - 1; i >= 0; i--)
        {
            node = NewNode(heads[i], line, [], node, false, startLine, endLine, column);
        }
        return node;
    }

    /// <summary>True when heredoc bodies may follow this instruction's line.</summary>
    public static bool CanContainHeredoc(Node node)
    {
        var inner = node.Value == "onbuild" && node.Trigger is { } trigger ? trigger : node;
        return HeredocInstructions.Contains(inner.Value) && !inner.IsJson;
    }

    // BuildKit splits the name off at ASCII whitespace after trimming; flags come next.
    private static Head SplitHead(LogicalLine line, int start, int end)
    {
        var text = line.Text;
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        var nameEnd = start;
        while (nameEnd < end && !IsTokenSpace(text[nameEnd]))
        {
            nameEnd++;
        }
        var keyword = text[start..nameEnd];
        var argsStart = nameEnd;
        while (argsStart < end && IsTokenSpace(text[argsStart]))
        {
            argsStart++;
        }
        if (!text.AsSpan(argsStart, end - argsStart).StartsWith("--"))
        {
            return new Head(keyword, [], argsStart, end);
        }

        var section = FlagGrammar.Split(text.AsSpan(argsStart, end - argsStart));
        var flags = section.Flags.Select(f => FlagAt(line, f.Text, argsStart + f.Offset)).ToList();
        var restStart = argsStart + section.RestOffset;
        while (restStart < end && char.IsWhiteSpace(text[restStart]))
        {
            restStart++;
        }
        return new Head(keyword, flags, restStart, end);
    }

    private static NodeFlag FlagAt(LogicalLine line, string text, int offset)
    {
        var (physicalLine, column) = line.PositionOf(offset);
        return new NodeFlag(text, physicalLine, column);
    }

    private static bool IsTokenSpace(char c) => c is ' ' or '\t' or '\v' or '\f' or '\r';

    private Node ParseArguments(Head head, LogicalLine line, int startLine, int endLine, int column)
    {
        var rest = head.Rest(line);
        var (args, isJson) = head.Keyword.ToLowerInvariant() switch
        {
            "add" or "copy" or "volume" => MaybeJsonToList(rest),
            "cmd" or "entrypoint" or "run" or "shell" => MaybeJson(rest),
            "arg" => (WordGrammar.Split(rest, escapeToken), false),
            "env" or "label" => (NameValuePairs(rest, head.Keyword.ToUpperInvariant(), startLine, column), false),
            "expose" or "from" => (WhitespaceDelimited(rest), false),
            "healthcheck" => HealthConfig(rest),
            "maintainer" or "stopsignal" or "user" or "workdir" or "onbuild" => (rest.Length == 0 ? [] : [rest], false),
            _ => ([], false), // unknown instructions are kept; the typed model reports them
        };
        return NewNode(head, line, args, null, isJson, startLine, endLine, column);

        (IReadOnlyList<string>, bool) MaybeJson(string text)
        {
            if (text.Length == 0)
            {
                return ([], false);
            }
            var json = ParseJsonOrFail(text);
            return json is null ? ([text], false) : (json, true);
        }

        (IReadOnlyList<string>, bool) MaybeJsonToList(string text)
        {
            var json = ParseJsonOrFail(text);
            return json is null ? (WhitespaceDelimited(text), false) : (json, true);
        }

        (IReadOnlyList<string>, bool) HealthConfig(string text)
        {
            // HEALTHCHECK takes a type word (CMD, NONE…) and then a command like CMD does.
            var typeEnd = 0;
            while (typeEnd < text.Length && !char.IsWhiteSpace(text[typeEnd]))
            {
                typeEnd++;
            }
            if (typeEnd == 0)
            {
                return ([], false);
            }
            var (command, json) = MaybeJson(text[typeEnd..].TrimStart());
            return ([text[..typeEnd], .. command], json);
        }

        List<string>? ParseJsonOrFail(string text)
        {
            try
            {
                return ExecForm.TryParse(text);
            }
            catch (FormatException e)
            {
                throw source.Error(e.Message, startLine, column);
            }
        }
    }

    // Original is the whole logical line, for ONBUILD triggers too (BuildKit gives them the
    // text after ONBUILD; sharing one string keeps deeply nested ONBUILD linear).
    private static Node NewNode(Head head, LogicalLine line, IReadOnlyList<string> args, Node? trigger, bool isJson,
        int startLine, int endLine, int column) =>
        new(head.Keyword.ToLowerInvariant(), head.Keyword, line.Text, head.Flags, args, trigger, isJson, [],
            startLine, endLine, column);

    /// <summary>Go's <c>regexp.Split</c> on <c>[\t\v\f\r ]+</c>: empty text gives no words.</summary>
    private static IReadOnlyList<string> WhitespaceDelimited(string text) =>
        text.Length == 0 ? [] : text.Split([' ', '\t', '\v', '\f', '\r'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// ENV and LABEL: either the old <c>KEY value with spaces</c> form or <c>k=v k2="v 2"</c> pairs.
    /// Each pair becomes key, value and the separator used ("" or "=").
    /// </summary>
    private IReadOnlyList<string> NameValuePairs(string rest, string instruction, int line, int column)
    {
        var words = WordGrammar.Split(rest, escapeToken);
        if (words.Count == 0)
        {
            return [];
        }
        if (!words[0].Contains('='))
        {
            var parts = rest.Split([' ', '\t', '\v', '\f', '\r'], 2, StringSplitOptions.None);
            var value = parts.Length < 2 ? "" : parts[1].TrimStart(' ', '\t', '\v', '\f', '\r');
            if (parts.Length < 2)
            {
                throw source.Error($"{instruction} must have two arguments", line, column);
            }
            return [parts[0], value, ""];
        }
        var triples = new List<string>(words.Count * 3);
        foreach (var word in words)
        {
            var equals = word.IndexOf('=');
            if (equals < 0)
            {
                throw source.Error($"Syntax error - can't find = in \"{word}\". Must be of the form: name=value", line, column);
            }
            triples.AddRange([word[..equals], word[(equals + 1)..], "="]);
        }
        return triples;
    }
}
