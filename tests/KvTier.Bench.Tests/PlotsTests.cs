namespace KvTier.Bench.Tests;

/// <summary>The shared chart helpers write real PNGs (SkiaSharp's native library loads on Linux without fontconfig).</summary>
public sealed class PlotsTests : IDisposable
{
    private static readonly byte[] PngMagic = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("kvtier-plots-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Lines_on_log_axes_with_markers_write_a_png()
    {
        var path = Path.Combine(_dir.FullName, "sub", "lines.png");
        double[] x = [64, 128, 256, 512];

        Plots.Lines(path, "title", "tokens", "ms", [new("a", x, [1, 2, 4, 8]), new("b", x, [3, 3, 3, 3], Dashed: true)],
            log2X: true, markers: [new PlotMarker("cross", 200)], log10Y: true);

        AssertPng(path);
    }

    [Fact]
    public void Cdf_and_bars_write_pngs()
    {
        var cdf = Path.Combine(_dir.FullName, "cdf.png");
        var bars = Path.Combine(_dir.FullName, "bars.png");

        Plots.Cdf(cdf, "ttft", "ms", [("kvtier", [5, 1, 3, 2, 4]), ("baseline", [10, 20, 30])]);
        Plots.Bars(bars, "hit rate", "%", ["lru", "kvtier"], [40, 75]);

        AssertPng(cdf);
        AssertPng(bars);
    }

    [Fact]
    public void A_series_with_more_x_than_y_values_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Plots.Lines(Path.Combine(_dir.FullName, "bad.png"), "t", "x", "y", [new PlotSeries("short", [1, 2, 3], [1, 2])]));

        Assert.Contains("short", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, "64")]
    [InlineData(1024, "1K")]
    [InlineData(65536, "64K")]
    [InlineData(1 << 20, "1M")]
    [InlineData(1536, "1536")]
    public void Short_labels_powers_of_two(double value, string label) => Assert.Equal(label, Plots.Short(value));

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path} holds only {bytes.Length} bytes");
        Assert.Equal(PngMagic, bytes.Take(8));
    }
}
