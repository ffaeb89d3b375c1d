using System.Globalization;

namespace KvTier.Core;

/// <summary>Parses and prints sizes such as 256MiB, 1GiB, 64KiB or a plain byte count.</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1),
    ];

    /// <summary>Parses a size; throws <see cref="FormatException"/> naming the value and the accepted forms.</summary>
    public static long Parse(string text)
    {
        if (TryParse(text, out var bytes))
        {
            return bytes;
        }

        throw new FormatException($"'{text}' is not a size: write a number with KiB, MiB, GiB or TiB (e.g. 256MiB), or a byte count.");
    }

    /// <summary>Parses a size without throwing.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        long factor = 1;
        foreach (var (suffix, f) in Units)
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = f;
                t = t[..^suffix.Length].Trim();
                break;
            }
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0
            || double.IsNaN(value) || value * factor >= 9223372036854775808.0)
        {
            return false;
        }

        bytes = (long)(value * factor);
        return true;
    }

    /// <summary>Prints a size with the largest binary unit it reaches, e.g. 1.5GiB.</summary>
    public static string Format(long bytes)
    {
        foreach (var (suffix, factor) in Units)
        {
            if (suffix.EndsWith("iB", StringComparison.Ordinal) && bytes >= factor)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{(double)bytes / factor:0.##}{suffix}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes}B");
    }
}
