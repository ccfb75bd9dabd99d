using System.Text.Json.Serialization;
using Builder.Core.Graph;

namespace Builder.Core.Oci;

/// <summary>An OCI content descriptor: what a manifest, index or config says about a blob.</summary>
public sealed record Descriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] Digest Digest,
    [property: JsonPropertyName("size")] long Size)
{
    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Platform? Platform { get; init; }
}

/// <summary>An OCI platform: <c>linux/amd64</c>, <c>linux/arm/v7</c>.</summary>
public sealed record Platform(
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("os")] string Os)
{
    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    /// <summary>The platform this process runs on, in Go's GOARCH names.</summary>
    public static Platform Host { get; } = new(GoArchitecture(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture), "linux");

    public static Platform Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
            throw new FormatException($"invalid platform \"{text}\": expected os/arch[/variant]");
        return new Platform(parts[1].ToLowerInvariant(), parts[0].ToLowerInvariant()) { Variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null };
    }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static string GoArchitecture(System.Runtime.InteropServices.Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        _ => architecture.ToString().ToLowerInvariant(),
    };
}
