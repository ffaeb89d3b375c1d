using KvTier.Core;

namespace KvTier.Cli;

/// <summary>Parsers for flag values; each failure names the flag, the value and the fix.</summary>
internal static class Inputs
{
    public static BlockKey Key(string flag, string text) =>
        BlockKey.TryParseHex(text.Trim(), out var key)
            ? key
            : throw new UsageException($"{flag} '{text}' is not a block key: give 64 hex digits, as 'kvtier hash' prints.");

    public static BlockKey[] Keys(string flag, string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var keys = new BlockKey[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!BlockKey.TryParseHex(items[i], out keys[i]))
            {
                throw new UsageException(
                    $"{flag} item {i + 1} '{items[i]}' is not a block key: give comma-separated keys of 64 hex digits, as 'kvtier hash' prints.");
            }
        }

        return keys;
    }

    public static int[] Tokens(string flag, string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var tokens = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!int.TryParse(items[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out tokens[i]))
            {
                throw new UsageException(
                    $"{flag} item {i + 1} '{items[i]}' is not a token id: give comma-separated non-negative integers, e.g. 1,2,3.");
            }
        }

        return tokens;
    }

    public static string ExistingFile(string flag, string path) =>
        File.Exists(path) ? path : throw new UsageException($"{flag} '{path}' does not exist: give the path of a file to read.");

    public static long Size(string flag, string text) =>
        ByteSize.TryParse(text, out var bytes) && bytes > 0
            ? bytes
            : throw new UsageException($"{flag} '{text}' is not a size: write e.g. 512MiB or 2GiB.");
}
