using System.Diagnostics;

namespace KvTier.Bench;

/// <summary>Bytes over seconds, measured with a Stopwatch around a whole batch.</summary>
internal static class Throughput
{
    public static double GigabytesPerSecond(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e9;

    /// <summary>Runs <paramref name="body"/> <paramref name="count"/> times and returns GB/s of <paramref name="bytesEach"/>.</summary>
    public static double Measure(int count, long bytesEach, Action<int> body)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            body(i);
        }

        return GigabytesPerSecond(count * bytesEach, watch.Elapsed);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
