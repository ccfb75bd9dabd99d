using System.Globalization;
using Builder.Core.Filesystem;

namespace Builder.Core.Execution;

/// <summary>Who the sandboxed process runs as, resolved against the image's own user database.</summary>
public sealed record ExecUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string Home);

/// <summary>
/// Resolves a Dockerfile USER value ("", "name", "uid", "name:group", "uid:gid") the way Docker
/// does: names must exist in the image's /etc/passwd (or /etc/group), numbers need not; a uid with
/// no passwd entry runs with gid 0 and HOME=/; supplementary groups come from /etc/group
/// membership unless a group was given explicitly.
/// </summary>
public static class UserResolver
{
    /// <summary>Reads /etc/passwd and /etc/group from inside the rootfs (never following links out of it).</summary>
    public static ExecUser ResolveInRootfs(string rootfs, string user) =>
        Resolve(user, ReadInside(rootfs, "/etc/passwd"), ReadInside(rootfs, "/etc/group"));

    /// <param name="passwd">contents of /etc/passwd, or null when the image has none.</param>
    /// <param name="group">contents of /etc/group, or null when the image has none.</param>
    public static ExecUser Resolve(string user, string? passwd, string? group)
    {
        var (userPart, groupPart) = SplitUserAndGroup(user);
        var users = ParsePasswd(passwd);
        var groups = ParseGroup(group);

        var entry = FindUser(userPart, users);
        var uid = entry?.Uid ?? ParseId(userPart);
        var home = entry?.Home ?? "/";

        if (groupPart is not null)
            return new ExecUser(uid, FindGroupId(groupPart, groups), [], home);

        var additional = entry is null
            ? []
            : groups.Where(g => g.Members.Contains(entry.Name)).Select(g => g.Gid).Distinct().ToList();
        return new ExecUser(uid, entry?.Gid ?? 0, additional, home);
    }

    private sealed record PasswdEntry(string Name, uint Uid, uint Gid, string Home);

    private sealed record GroupEntry(string Name, uint Gid, IReadOnlyList<string> Members);

    private static (string User, string? Group) SplitUserAndGroup(string user)
    {
        if (user.Length == 0)
            return ("0", null);
        var colon = user.IndexOf(':');
        return colon < 0 ? (user, null) : (user[..colon], user[(colon + 1)..]);
    }

    private static PasswdEntry? FindUser(string userPart, IReadOnlyList<PasswdEntry> users)
    {
        if (TryParseId(userPart, out var uid))
            return users.FirstOrDefault(u => u.Uid == uid);
        return users.FirstOrDefault(u => u.Name == userPart)
            ?? throw new ExecutionException($"unable to find user {userPart}: no matching entries in passwd file");
    }

    private static uint FindGroupId(string groupPart, IReadOnlyList<GroupEntry> groups)
    {
        if (TryParseId(groupPart, out var gid))
            return gid;
        return groups.FirstOrDefault(g => g.Name == groupPart)?.Gid
            ?? throw new ExecutionException($"unable to find group {groupPart}: no matching entries in group file");
    }

    private static uint ParseId(string text) =>
        TryParseId(text, out var id) ? id : throw new ExecutionException($"invalid user id {text}");

    // Docker accepts ids in [0, 2^31 - 1]; anything else that is not a number is a name.
    private static bool TryParseId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id <= int.MaxValue;

    private static List<PasswdEntry> ParsePasswd(string? passwd) =>
        Records(passwd, minFields: 6)
            .Where(f => TryParseId(f[2], out _) && TryParseId(f[3], out _))
            .Select(f => new PasswdEntry(f[0], uint.Parse(f[2], CultureInfo.InvariantCulture), uint.Parse(f[3], CultureInfo.InvariantCulture), f[5]))
            .ToList();

    private static List<GroupEntry> ParseGroup(string? group) =>
        Records(group, minFields: 3)
            .Where(f => TryParseId(f[2], out _))
            .Select(f => new GroupEntry(
                f[0],
                uint.Parse(f[2], CultureInfo.InvariantCulture),
                f.Length > 3 ? f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : []))
            .ToList();

    // Colon-separated records, skipping blank lines, comments and malformed lines (as libc does).
    private static IEnumerable<string[]> Records(string? text, int minFields) =>
        (text ?? "").Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(':'))
            .Where(fields => fields.Length >= minFields);

    private static string? ReadInside(string rootfs, string path)
    {
        var hostPath = RootedPath.Resolve(rootfs, path);
        return File.Exists(hostPath) ? File.ReadAllText(hostPath) : null;
    }
}
