using Builder.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Builder.Daemon.Gc;

/// <summary>One place that turns a disk-usage entry into its API record, for the daemon and the embedded CLI alike.</summary>
public static class UsageEntryMapping
{
    public static UsageRecord ToApi(UsageEntry entry) => new()
    {
        Id = entry.Id,
        Kind = entry.Kind,
        Size = entry.Size,
        LastUsed = Timestamp.FromDateTimeOffset(entry.LastUsed),
        InUse = entry.InUse,
        Shared = entry.Shared,
        Description = entry.Description,
    };
}
