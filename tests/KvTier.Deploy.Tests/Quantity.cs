using System.Globalization;
using System.Text.RegularExpressions;

namespace KvTier.Deploy.Tests;

/// <summary>Byte sizes as Kubernetes quantities (34048Mi, 1Gi) and as KvTier sizes (32GiB, 256MiB) write them.</summary>
internal static partial class Quantity
{
    public static long Bytes(string text)
    {
        var m = SizePattern().Match(text.Trim());
        Assert.True(m.Success, $"'{text}' is not a size");
        var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var scale = m.Groups[2].Value switch
        {
            "" or "B" => 1L,
            "Ki" or "KiB" => 1L << 10,
            "Mi" or "MiB" => 1L << 20,
            "Gi" or "GiB" => 1L << 30,
            "Ti" or "TiB" => 1L << 40,
            var unit => throw new Xunit.Sdk.XunitException($"unit '{unit}' of '{text}' is not a binary unit"),
        };
        return n * scale;
    }

    [GeneratedRegex(@"^(\d+)\s*([A-Za-z]*)$")]
    private static partial Regex SizePattern();
}
