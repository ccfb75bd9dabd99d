namespace Builder.Frontends.Dockerfile.Instructions;

/// <summary>
/// Go's <c>time.ParseDuration</c>, which HEALTHCHECK flags use: a signed sequence of decimal
/// numbers with units, e.g. <c>300ms</c>, <c>1.5h</c>, <c>2h45m</c>; a bare <c>0</c> is allowed.
/// </summary>
internal static class GoDuration
{
    private static readonly (string Unit, double Nanoseconds)[] Units =
    [
        ("ns", 1), ("us", 1e3), ("\u00b5s", 1e3), ("\u03bcs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ];

    /// <exception cref="FormatException">With Go's message for the same input.</exception>
    public static TimeSpan Parse(string text)
    {
        var rest = text;
        var negative = rest.StartsWith('-');
        if (rest.StartsWith('-') || rest.StartsWith('+'))
        {
            rest = rest[1..];
        }
        if (rest == "0")
        {
            return TimeSpan.Zero;
        }
        if (rest.Length == 0)
        {
            throw Invalid(text);
        }
        double total = 0;
        while (rest.Length > 0)
        {
            var number = TakeNumber(ref rest) ?? throw Invalid(text);
            var unitLength = 0;
            while (unitLength < rest.Length && rest[unitLength] != '.' && !char.IsAsciiDigit(rest[unitLength]))
            {
                unitLength++;
            }
            if (unitLength == 0)
            {
                throw new FormatException($"time: missing unit in duration \"{text}\"");
            }
            var unit = rest[..unitLength];
            var scale = Units.FirstOrDefault(u => u.Unit == unit).Nanoseconds;
            if (scale == 0)
            {
                throw new FormatException($"time: unknown unit \"{unit}\" in duration \"{text}\"");
            }
            total += number * scale;
            rest = rest[unitLength..];
        }
        if (total > long.MaxValue)
        {
            throw Invalid(text);
        }
        var ticks = (long)(total / 100); // a tick is 100ns
        return TimeSpan.FromTicks(negative ? -ticks : ticks);
    }

    // Digits, optionally with a fraction; at least one digit on one side of the point.
    private static double? TakeNumber(ref string rest)
    {
        var length = 0;
        while (length < rest.Length && char.IsAsciiDigit(rest[length]))
        {
            length++;
        }
        var digitsBefore = length;
        if (length < rest.Length && rest[length] == '.')
        {
            length++;
            var fractionStart = length;
            while (length < rest.Length && char.IsAsciiDigit(rest[length]))
            {
                length++;
            }
            if (digitsBefore == 0 && length == fractionStart)
            {
                return null;
            }
        }
        else if (digitsBefore == 0)
        {
            return null;
        }
        var number = double.Parse(rest[..length] is ['.', ..] n ? "0" + n : rest[..length].TrimEnd('.'),
            System.Globalization.CultureInfo.InvariantCulture);
        rest = rest[length..];
        return number;
    }

    private static FormatException Invalid(string text) => new($"time: invalid duration \"{text}\"");
}
