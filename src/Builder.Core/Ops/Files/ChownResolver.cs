using Builder.Core.Filesystem;
using Builder.Core.Graph;

namespace Builder.Core.Ops.Files;

/// <summary>
/// Turns a COPY/ADD <c>--chown</c> owner into ids the way BuildKit's file op does: a numeric user
/// gives uid = gid = that number; a user name is looked up in the stage's own /etc/passwd and
/// gives that entry's uid and primary gid, and a name that is not there (or no passwd file at all)
/// falls back to 0:0 silently. A group, when given, overrides the gid: by number, or by name from
/// /etc/group (an unknown group name keeps the gid the user part gave).
/// </summary>
internal static class ChownResolver
{
    public static (uint Uid, uint Gid) Resolve(string root, Owner owner)
    {
        uint uid = 0, gid = 0;
        if (TryParseId(owner.User, out var id))
        {
            uid = gid = id;
        }
        else if (FindEntry(root, "/etc/passwd", owner.User) is { } fields && fields.Length >= 4
            && TryParseId(fields[2], out var u) && TryParseId(fields[3], out var g))
        {
            uid = u;
            gid = g;
        }

        if (owner.Group is { Length: > 0 } group)
        {
            if (TryParseId(group, out var groupId)) gid = groupId;
            else if (FindEntry(root, "/etc/group", group) is { } fields && fields.Length >= 3 && TryParseId(fields[2], out var g)) gid = g;
        }
        return (uid, gid);
    }

    private static string[]? FindEntry(string root, string file, string name)
    {
        string text;
        try
        {
            var host = RootedPath.Resolve(root, file);
            if (!Native.TryLStat(host, out var status) || !status.IsRegularFile) return null;
            text = File.ReadAllText(host);
        }
        catch (IOException) { return null; }
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name) return fields;
        }
        return null;
    }

    private static bool TryParseId(string text, out uint id) =>
        uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
}
