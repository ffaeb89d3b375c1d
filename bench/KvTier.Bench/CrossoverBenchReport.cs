using System.Globalization;
using System.Text;

namespace KvTier.Bench;

/// <summary>The markdown table and the chart of <c>kvtier bench crossover</c>.</summary>
public static class CrossoverBenchReport
{
    /// <summary>File name of the chart in the output directory.</summary>
    public const string PlotFile = "crossover.png";

    /// <summary>Renders the rows, both crossovers and where the recompute figures come from.</summary>
    public static string Markdown(CrossoverBenchResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"# kvtier bench crossover: {r.Model} on {r.Device}, link {r.Link}");
        s.AppendLine();
        var path = r.Link == "local" ? "unshaped" : $"through a link shaper at {r.Link}";
        s.AppendLine(CultureInfo.InvariantCulture,
            $"Fetch: the prefix's {r.BlockBytes >> 10} KiB blocks ({r.BlockTokens} tokens each) in one GET batch over the peer data plane on loopback, {path}, "
            + $"each copied into a preallocated buffer; the peer holds {r.SetBlocks} distinct blocks and longer prefixes cycle through them. "
            + $"Plus the engine's one-token prefill with the prefix cached. Recompute: {Describe(r)}. Median of {r.Runs} runs per row, on {r.Cores} cores.");
        s.AppendLine();
        s.AppendLine("| tokens | fetch ms | of which transfer ms | transfer GB/s | recompute ms | recompute from | predicted fetch ms | predicted recompute ms | faster |");
        s.AppendLine("|---:|---:|---:|---:|---:|---|---:|---:|---|");
        foreach (var row in r.Rows)
        {
            var faster = row.FetchWins ? "fetch" : "recompute";
            s.AppendLine(c, $"| {row.Tokens} | {row.FetchMs:0.00} | {row.TransferMs:0.00} | {row.TransferGbPerS:0.00} | {row.RecomputeMs:0.00} | {row.RecomputeSource} | {row.PredictedFetchMs:0.00} | {row.PredictedRecomputeMs:0.00} | {faster} |");
        }

        s.AppendLine();
        s.AppendLine(c, $"Crossover, measured: {Measured(r)}.");
        var prior = string.Create(c, $"setup {r.PriorSetupMs:0.###} ms, rtt {r.PriorRttMs:0.###} ms, {r.PriorGbPerS:0.###} GB/s");
        s.AppendLine(c, $"Crossover, predicted by the policy's cost model before the sweep, its link model having learned online from {r.CalibrationFetches.Count} calibration fetches of {string.Join("/", r.CalibrationFetches.Distinct())} blocks (not the sweep's sizes), with the prefill profile: {Tokens(r.CrossoverTokensPredicted)}.");
        s.AppendLine(c, $"Error |predicted − measured| / measured: {Error(r.CrossoverError, target: true)}.");
        s.AppendLine(c, $"The same model on the nominal link prior alone ({prior}), before any transfer: {Tokens(r.CrossoverTokensPredictedPrior)}, error {Error(r.CrossoverErrorPrior, target: false)}.");
        if (r.LinkRateFraction is { } fraction)
        {
            var limited = fraction < 0.95 ? ": this machine's CPUs, not the emulated link, limited it, and the measured crossover reflects that" : "";
            s.AppendLine(c, $"The longest fetch ran at {fraction:P0} of the link's line rate (its round trip taken out){limited}.");
        }
        s.AppendLine();
        s.AppendLine(c, $"Prefill profile {r.Model}@{r.Device}: {r.ProfileSource}");
        return s.ToString();
    }

    /// <summary>
    /// Draws the chart: measured fetch, recompute and predicted fetch (dashed) against tokens on a log2 axis, ms on a
    /// log10 axis (the sweep spans three decades of time; on a linear axis every row below 8K tokens would sit on the
    /// floor), crossovers as vertical lines.
    /// </summary>
    public static void Plot(CrossoverBenchResult r, string path)
    {
        ArgumentNullException.ThrowIfNull(r);
        var tokens = r.Rows.Select(row => (double)row.Tokens).ToArray();
        var recomputeName = r.RecomputeSource switch
        {
            "measured" => "recompute (measured)",
            "profile" => "recompute (profile)",
            _ => "recompute (measured, projected above " + Plots.Short(r.MaxMeasuredTokens) + ")",
        };
        var series = new List<PlotSeries>
        {
            new("fetch (measured)", tokens, r.Rows.Select(row => row.FetchMs).ToArray()),
            new(recomputeName, tokens, r.Rows.Select(row => row.RecomputeMs).ToArray()),
            new("fetch (predicted)", tokens, r.Rows.Select(row => row.PredictedFetchMs).ToArray(), Dashed: true),
        };
        if (r.RecomputeSource != "profile")
        {
            series.Add(new PlotSeries("recompute (predicted, profile)", tokens, r.Rows.Select(row => row.PredictedRecomputeMs).ToArray(), Dashed: true));
        }

        var markers = new List<PlotMarker>();
        if (r.CrossoverTokensMeasured is { } measured)
        {
            markers.Add(new PlotMarker($"crossover measured: {(r.CrossoverBelowSweep ? "≤ " : "")}{measured} tokens", measured));
        }

        if (r.CrossoverTokensPredicted is { } predicted)
        {
            markers.Add(new PlotMarker($"crossover predicted (policy model, calibrated): {predicted} tokens", predicted, Dashed: true));
        }

        if (r.CrossoverTokensPredictedPrior is { } prior)
        {
            markers.Add(new PlotMarker($"crossover predicted (nominal link prior): {prior} tokens", prior, Dashed: true));
        }

        Plots.Lines(path, $"Fetch vs recompute: {r.Model} on {r.Device}, link {r.Link}", "prefix tokens (log2)", "time to first token, ms (log10)",
            series, log2X: true, markers, log10Y: true);
    }

    private static string Describe(CrossoverBenchResult r) => r.RecomputeSource switch
    {
        "measured" => "measured here with the reference engine (one CPU thread)",
        "profile" => $"the {r.Model}@{r.Device} prefill profile",
        _ => $"measured here with the reference engine up to {r.MaxMeasuredTokens} tokens, projected from the {r.Model}@{r.Device} profile above (the CPU prefill grows quadratically)",
    };

    private static string Measured(CrossoverBenchResult r) => r.CrossoverTokensMeasured switch
    {
        null => "none: recompute is faster at every swept length",
        var t when r.CrossoverBelowSweep => $"≤ {t} tokens (fetch is faster at every swept length)",
        var t => $"{t} tokens",
    };

    private static string Tokens(int? tokens) => tokens is { } t ? string.Create(CultureInfo.InvariantCulture, $"{t} tokens") : "none (fetching never wins below 1M tokens)";

    private static string Error(double? error, bool target) => error is { } e
        ? string.Create(CultureInfo.InvariantCulture, $"{e:P1}") + (target ? string.Create(CultureInfo.InvariantCulture, $" (target ≤ {CrossoverBenchmark.ErrorTarget:P0} {(e <= CrossoverBenchmark.ErrorTarget ? "✅" : "❌")})") : "")
        : "n/a (a crossover is missing or only bounded)";
}
