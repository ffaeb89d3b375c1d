using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace KvTier.Bench;

/// <summary>One line of a <see cref="Plots.Lines"/> chart: points joined in order, with markers.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values (positive when the axis is logarithmic).</param>
/// <param name="Y">Y values, one per X.</param>
/// <param name="Dashed">A dashed line (a prediction beside a measurement).</param>
internal sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>A vertical marker line across a chart, labelled in the legend.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">Where, in data units (tokens, not log2 tokens).</param>
/// <param name="Dashed">Dashed instead of solid.</param>
internal sealed record PlotMarker(string Name, double X, bool Dashed = false);

/// <summary>
/// The benchmarks' PNG charts (ScottPlot 5 on SkiaSharp; the Linux native assets without dependencies, so neither
/// fontconfig nor X is needed): line charts on a linear or log2 x axis, CDFs and bar charts, all 1000 × 600.
/// </summary>
internal static class Plots
{
    public const int Width = 1000;
    public const int Height = 600;

    /// <summary>
    /// A line chart of <paramref name="series"/>, with vertical <paramref name="markers"/>. With
    /// <paramref name="log2X"/> the x axis is log2 (ticks at powers of two, labelled 64, 1K, 64K, ...); with
    /// <paramref name="log10Y"/> the y axis is log10 (ticks at 1, 2, 5 × powers of ten). Log axes need positive values.
    /// </summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series,
        bool log2X = false, IReadOnlyList<PlotMarker>? markers = null, bool log10Y = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        try
        {
            Func<double, double> x = log2X ? Math.Log2 : v => v;
            Func<double, double> y = log10Y ? Math.Log10 : v => v;
            var palette = new ScottPlot.Palettes.Category10();
            for (var i = 0; i < series.Count; i++)
            {
                var s = series[i];
                if (s.X.Count != s.Y.Count)
                {
                    throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x values and {s.Y.Count} y values.", nameof(series));
                }

                var line = plot.Add.Scatter(s.X.Select(x).ToArray(), s.Y.Select(y).ToArray(), palette.GetColor(i));
                line.LegendText = s.Name;
                line.LineWidth = 2;
                line.MarkerSize = 6;
                line.LinePattern = s.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            }

            for (var i = 0; i < (markers?.Count ?? 0); i++)
            {
                var m = markers![i];
                var line = plot.Add.VerticalLine(x(m.X), 1.5f, palette.GetColor(series.Count + i), m.Dashed ? LinePattern.Dashed : LinePattern.Solid);
                line.LegendText = m.Name;
            }

            if (log2X)
            {
                var all = series.SelectMany(s => s.X).Concat(markers?.Select(m => m.X) ?? []).Where(v => v > 0).ToArray();
                if (all.Length > 0)
                {
                    plot.Axes.Bottom.TickGenerator = Log2Ticks(all.Min(), all.Max());
                }
            }

            if (log10Y)
            {
                var all = series.SelectMany(s => s.Y).Where(v => v > 0).ToArray();
                if (all.Length > 0)
                {
                    plot.Axes.Left.TickGenerator = Log10Ticks(all.Min(), all.Max());
                }
            }

            plot.Title(title);
            plot.XLabel(xLabel);
            plot.YLabel(yLabel);
            plot.ShowLegend(Alignment.UpperLeft);
            Save(plot, path);
        }
        finally
        {
            plot.Dispose();
        }
    }

    /// <summary>Empirical CDFs of <paramref name="samples"/> (one line per named sample set), y from 0 to 1.</summary>
    public static void Cdf(string path, string title, string xLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> samples,
        bool log2X = false)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var series = samples
            .Where(s => s.Values.Count > 0)
            .Select(s =>
            {
                var sorted = s.Values.Order().ToArray();
                var y = Enumerable.Range(1, sorted.Length).Select(i => (double)i / sorted.Length).ToArray();
                return new PlotSeries(s.Name, sorted, y);
            })
            .ToArray();
        Lines(path, title, xLabel, "fraction ≤ x", series, log2X);
    }

    /// <summary>A bar chart: one bar per label, in order.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<string> labels, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(values);
        if (labels.Count != values.Count)
        {
            throw new ArgumentException($"{labels.Count} labels for {values.Count} values.", nameof(labels));
        }

        var plot = new Plot();
        try
        {
            plot.Add.Bars(values.ToArray());
            var ticks = new NumericManual();
            for (var i = 0; i < labels.Count; i++)
            {
                ticks.AddMajor(i, labels[i]);
            }

            plot.Axes.Bottom.TickGenerator = ticks;
            plot.Axes.Margins(bottom: 0);
            plot.Title(title);
            plot.YLabel(yLabel);
            Save(plot, path);
        }
        finally
        {
            plot.Dispose();
        }
    }

    /// <summary>"64", "512", "1K", "64K", "1M": a power of two of tokens or bytes, short.</summary>
    public static string Short(double value) => value switch
    {
        >= 1 << 20 when value % (1 << 20) == 0 => string.Create(CultureInfo.InvariantCulture, $"{value / (1 << 20):0}M"),
        >= 1 << 10 when value % (1 << 10) == 0 => string.Create(CultureInfo.InvariantCulture, $"{value / (1 << 10):0}K"),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static NumericManual Log2Ticks(double min, double max)
    {
        var ticks = new NumericManual();
        for (var e = (int)Math.Floor(Math.Log2(min)); e <= (int)Math.Ceiling(Math.Log2(max)); e++)
        {
            ticks.AddMajor(e, Short(Math.Pow(2, e)));
        }

        return ticks;
    }

    private static NumericManual Log10Ticks(double min, double max)
    {
        var ticks = new NumericManual();
        for (var e = (int)Math.Floor(Math.Log10(min)); e <= (int)Math.Ceiling(Math.Log10(max)); e++)
        {
            foreach (var m in (ReadOnlySpan<double>)[1, 2, 5])
            {
                var v = m * Math.Pow(10, e);
                ticks.AddMajor(Math.Log10(v), v.ToString("0.###", CultureInfo.InvariantCulture));
            }
        }

        return ticks;
    }

    private static void Save(Plot plot, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        plot.SavePng(path, Width, Height);
    }
}
