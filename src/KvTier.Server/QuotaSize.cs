using System.Globalization;
using KvTier.Core;

namespace KvTier.Server;

/// <summary>A DRAM quota as written: a size (<c>2GiB</c>) or a share of the store's in-memory window (<c>25%</c>).</summary>
internal static class QuotaSize
{
    /// <summary>Parses <paramref name="text"/>; a percentage is taken of <paramref name="windowBytes"/>.</summary>
    public static bool TryParse(string? text, long windowBytes, out long bytes)
    {
        bytes = 0;
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        if (value.EndsWith('%'))
        {
            if (!double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is <= 0 or > 100)
            {
                return false;
            }

            bytes = (long)(windowBytes * percent / 100);
            return bytes > 0;
        }

        return ByteSize.TryParse(value, out bytes) && bytes > 0;
    }

    /// <summary>Parses a quota already validated.</summary>
    public static long Parse(string text, long windowBytes) =>
        TryParse(text, windowBytes, out var bytes) ? bytes : throw new InvalidOperationException($"quota '{text}' is not valid: call Validate() first.");
}
