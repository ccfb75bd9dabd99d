using System.Text;
using System.Text.Json;

namespace Builder.Frontends.Dockerfile.Parsing;

/// <summary>
/// The exec (JSON array) form of CMD, RUN, ADD… Text that is not valid JSON falls back to the
/// shell form; a valid JSON array holding anything but strings is an error, as in BuildKit.
/// </summary>
internal static class ExecForm
{
    public const string NotStringsMessage = "when using JSON array syntax, arrays must be comprised of strings only";

    private static readonly JsonReaderOptions Strict = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 1_000_000, // the reader is not recursive; Go's decoder accepts deep nesting too
    };

    /// <summary>The array's strings, or null when the text is not a JSON array at all.</summary>
    /// <exception cref="FormatException">A JSON array with a non-string element.</exception>
    public static List<string>? TryParse(string text)
    {
        var trimmed = text.TrimStart();
        if (!trimmed.StartsWith('['))
        {
            return null;
        }
        try
        {
            return ReadStringArray(Encoding.UTF8.GetBytes(trimmed));
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") the reader refuses to decode: treat as not JSON.
            return null;
        }
    }

    private static List<string> ReadStringArray(byte[] utf8)
    {
        var reader = new Utf8JsonReader(utf8, isFinalBlock: true, new JsonReaderState(Strict));
        reader.Read(); // the '['
        var strings = new List<string>();
        var onlyStrings = true;
        while (reader.Read())
        {
            if (reader.CurrentDepth != 1 || reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
            {
                continue;
            }
            if (reader.TokenType == JsonTokenType.String)
            {
                strings.Add(reader.GetString()!);
            }
            else
            {
                onlyStrings = false; // keep reading: invalid JSON later still means "not JSON"
            }
        }
        return onlyStrings ? strings : throw new FormatException(NotStringsMessage);
    }
}
