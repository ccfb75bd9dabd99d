using System.Globalization;
using System.Text;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// Go's <c>strconv.Quote</c>: the AST dump format prints every string this way, so matching it
/// byte for byte is what makes our dumps comparable with BuildKit's.
/// </summary>
public static class GoQuote
{
    public static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2);
        quoted.Append('"');
        foreach (var rune in EnumerateRunes(value))
        {
            AppendRune(quoted, rune);
        }
        return quoted.Append('"').ToString();
    }

    // A lone surrogate cannot come from UTF-8 text; Go would have seen U+FFFD, so print that.
    private static IEnumerable<Rune> EnumerateRunes(string value)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
                used = 1;
            }
            yield return rune;
            i += used;
        }
    }

    private static void AppendRune(StringBuilder quoted, Rune rune)
    {
        switch (rune.Value)
        {
            case '"': quoted.Append("\\\""); return;
            case '\\': quoted.Append("\\\\"); return;
            case '\a': quoted.Append("\\a"); return;
            case '\b': quoted.Append("\\b"); return;
            case '\f': quoted.Append("\\f"); return;
            case '\n': quoted.Append("\\n"); return;
            case '\r': quoted.Append("\\r"); return;
            case '\t': quoted.Append("\\t"); return;
            case '\v': quoted.Append("\\v"); return;
        }
        if (IsPrintable(rune))
        {
            quoted.Append(rune.ToString());
        }
        else if (rune.Value < ' ' || rune.Value == 0x7f)
        {
            quoted.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
        }
        else if (rune.Value < 0x10000)
        {
            quoted.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
        }
        else
        {
            quoted.Append("\\U").Append(rune.Value.ToString("x8", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Go's <c>unicode.IsPrint</c>: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrintable(Rune rune)
    {
        if (rune.Value == ' ')
        {
            return true;
        }
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => true,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => true,
            _ => false,
        };
    }
}
