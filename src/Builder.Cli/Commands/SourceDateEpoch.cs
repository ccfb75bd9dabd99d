namespace Builder.Cli.Commands;

/// <summary>SOURCE_DATE_EPOCH (reproducible-builds.org): one timestamp for everything the build writes.</summary>
public static class SourceDateEpoch
{
    public static DateTimeOffset? FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        if (string.IsNullOrEmpty(text)) return null;
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : throw new CliException($"invalid SOURCE_DATE_EPOCH \"{text}\": expected whole seconds since 1970");
    }
}
