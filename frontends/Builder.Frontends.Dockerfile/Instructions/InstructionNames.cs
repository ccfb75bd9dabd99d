namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>The instructions a Dockerfile may use, and the nearest one to a misspelt name.</summary>
internal static class InstructionNames
{
    public static readonly string[] All =
    [
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    ];

    /// <summary>"unknown instruction: RUNN (did you mean RUN?)", without the hint when nothing is close.</summary>
    public static string UnknownMessage(string keyword)
    {
        var suggestion = Nearest(keyword.ToUpperInvariant());
        return suggestion is null
            ? $"unknown instruction: {keyword}"
            : $"unknown instruction: {keyword} (did you mean {suggestion}?)";
    }

    // Close enough means about one edit per three letters, at least one.
    private static string? Nearest(string word)
    {
        var allowed = Math.Max(1, word.Length / 3);
        return All.Select(name => (name, distance: EditDistance(word, name)))
            .Where(c => c.distance <= allowed)
            .OrderBy(c => c.distance)
            .Select(c => c.name)
            .FirstOrDefault();
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
