using System.Text;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// BuildKit's AST dump: one line per instruction, <c>(name ["--flag" …] "arg" …)</c>, strings
/// Go-quoted, ONBUILD's trigger nested: <c>(onbuild (run "echo"))</c>.
/// </summary>
public static class AstDump
{
    /// <summary>The dump of every instruction, each line ending in a newline.</summary>
    public static string Format(ParseResult result)
    {
        var dump = new StringBuilder();
        foreach (var node in result.Children)
        {
            dump.Append(Format(node)).Append('\n');
        }
        return dump.ToString();
    }

    /// <summary>One instruction as <c>(name …)</c>.</summary>
    public static string Format(Node node)
    {
        // ONBUILD can wrap ONBUILD many times over: open every level, then close them all.
        var dump = new StringBuilder();
        var depth = 0;
        for (Node? current = node; current is not null; current = current.Trigger)
        {
            if (depth++ > 0)
            {
                dump.Append(' ');
            }
            dump.Append('(').Append(current.Value);
            AppendFlags(dump, current.Flags);
            foreach (var arg in current.Args)
            {
                dump.Append(' ').Append(GoQuote.Quote(arg));
            }
        }
        return dump.Append(')', depth).ToString();
    }

    // Go's %q of a []string: ["a" "b"].
    private static void AppendFlags(StringBuilder dump, IReadOnlyList<NodeFlag> flags)
    {
        if (flags.Count == 0)
        {
            return;
        }
        dump.Append(" [");
        dump.AppendJoin(' ', flags.Select(f => GoQuote.Quote(f.Text)));
        dump.Append(']');
    }
}
