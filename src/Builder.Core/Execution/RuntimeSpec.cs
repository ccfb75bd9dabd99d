using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Execution;

// The subset of the OCI runtime-spec (config.json, version 1.0.2) that a RUN sandbox needs.
// Property names follow the spec through the camelCase policy of RuntimeSpecJson; absent
// optional fields are left out of the document rather than written as null.

internal sealed record RuntimeSpec(
    string OciVersion,
    ProcessSpec Process,
    RootSpec Root,
    string Hostname,
    IReadOnlyList<MountSpec> Mounts,
    LinuxSpec Linux);

internal sealed record ProcessSpec(
    bool Terminal,
    UserSpec User,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string Cwd,
    CapabilitiesSpec Capabilities,
    IReadOnlyList<RlimitSpec> Rlimits,
    bool NoNewPrivileges);

internal sealed record UserSpec(uint Uid, uint Gid, IReadOnlyList<uint>? AdditionalGids);

internal sealed record CapabilitiesSpec(
    IReadOnlyList<string> Bounding,
    IReadOnlyList<string> Effective,
    IReadOnlyList<string> Permitted);

internal sealed record RlimitSpec(string Type, ulong Hard, ulong Soft);

internal sealed record RootSpec(string Path, bool Readonly);

internal sealed record MountSpec(string Destination, string Type, string Source, IReadOnlyList<string> Options);

internal sealed record LinuxSpec(
    IReadOnlyList<NamespaceSpec> Namespaces,
    string CgroupsPath,
    ResourcesSpec Resources,
    IReadOnlyList<string> MaskedPaths,
    IReadOnlyList<string> ReadonlyPaths);

internal sealed record NamespaceSpec(string Type);

internal sealed record ResourcesSpec(IReadOnlyList<DeviceRuleSpec> Devices);

internal sealed record DeviceRuleSpec(bool Allow, string Access);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(RuntimeSpec))]
internal sealed partial class RuntimeSpecJson : JsonSerializerContext
{
    public static async Task WriteAsync(RuntimeSpec spec, string path, CancellationToken ct)
    {
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, spec, Default.RuntimeSpec, ct);
    }
}
