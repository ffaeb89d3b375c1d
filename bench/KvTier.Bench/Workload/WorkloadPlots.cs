namespace KvTier.Bench;

/// <summary>The PNG plots of <c>bench workload</c> (ScottPlot): TTFT CDF per policy, hit rate by turn, retention by capacity.</summary>
public static class WorkloadPlots
{
    /// <summary>Writes every plot into <paramref name="dir"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Write(WorkloadBenchResult result, string dir)
    {
        Directory.CreateDirectory(dir);
        var written = new List<string>();
        foreach (var w in result.Workloads.Where(w => w.TtftSamples.Count > 0))
        {
            var plot = new ScottPlot.Plot();
            foreach (var policy in PolicyComparison.PolicyNames)
            {
                var sorted = w.TtftSamples[policy].Order().ToArray();
                var ys = Enumerable.Range(1, sorted.Length).Select(i => (double)i / sorted.Length).ToArray();
                var line = plot.Add.ScatterLine(sorted, ys);
                line.LegendText = policy;
                line.LineWidth = 2;
                // Policies often coincide (the planner picks what the oracle would): dashes keep every curve visible.
                line.LinePattern = policy switch
                {
                    "policy" => ScottPlot.LinePattern.Dashed,
                    "oracle" => ScottPlot.LinePattern.Dotted,
                    _ => ScottPlot.LinePattern.Solid,
                };
            }

            plot.Title($"TTFT CDF: {w.Name} @ {w.Link} ({result.Model} on {result.Device})");
            plot.XLabel("time to first token (ms)");
            plot.YLabel("fraction of requests");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            written.Add(Save(plot, dir, $"ttft-cdf-{w.Name}-{FileSafe(w.Link)}.png"));
        }

        var turns = result.Workloads.Where(w => w.HitRateByTurn is not null).ToList();
        if (turns.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            foreach (var w in turns)
            {
                var xs = w.HitRateByTurn!.Keys.Select(double.Parse).ToArray();
                var ys = w.HitRateByTurn!.Values.Select(v => v * 100).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.LegendText = $"{w.Name} @ {w.Link}";
            }

            plot.Title("Cached share of prompt tokens by turn index");
            plot.XLabel("turn");
            plot.YLabel("hit rate (%)");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            written.Add(Save(plot, dir, "hit-rate-by-turn.png"));
        }

        foreach (var w in result.Workloads.Where(w => w.CapacitySweep is not null).Take(1))
        {
            var plot = new ScottPlot.Plot();
            var xs = w.CapacitySweep!.Select(p => (double)p.CapacityBlocks).ToArray();
            var lru = plot.Add.Scatter(xs, w.CapacitySweep!.Select(p => p.LruTokenHitRate * 100).ToArray());
            lru.LegendText = "LRU";
            var fifo = plot.Add.Scatter(xs, w.CapacitySweep!.Select(p => p.FifoTokenHitRate * 100).ToArray());
            fifo.LegendText = "store, FIFO retention";
            var kv = plot.Add.Scatter(xs, w.CapacitySweep!.Select(p => p.KvTierTokenHitRate * 100).ToArray());
            kv.LegendText = "store, KvTier retention";
            var pool = plot.Add.Scatter(xs, w.CapacitySweep!.Select(p => p.PoolTokenHitRate * 100).ToArray());
            pool.LegendText = "KvTier rule, ideal pool";
            pool.LinePattern = ScottPlot.LinePattern.Dotted;
            var ceiling = plot.Add.HorizontalLine(w.CeilingTokenHitRate!.Value * 100);
            ceiling.LegendText = "unlimited cache (ceiling)";
            ceiling.LinePattern = ScottPlot.LinePattern.Dashed;
            plot.Title("trace-replay (Mooncake conversation trace): token hit rate by capacity");
            plot.XLabel("capacity (512-token blocks)");
            plot.YLabel("token hit rate (%)");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            written.Add(Save(plot, dir, "trace-retention.png"));
        }

        return written;
    }

    /// <summary>A link name as a file-name part: <c>25gbit:rtt=100us</c> → <c>25gbit-rtt-100us</c>.</summary>
    public static string FileSafe(string link) => string.Concat(link.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' ? ch : '-'));

    private static string Save(ScottPlot.Plot plot, string dir, string name)
    {
        var path = Path.Combine(dir, name);
        plot.SavePng(path, 900, 560);
        return path;
    }
}
