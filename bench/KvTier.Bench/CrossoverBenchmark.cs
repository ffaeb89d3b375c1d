using System.Diagnostics;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// <c>kvtier bench crossover</c>: for prefix lengths P = 64 … 64K tokens (powers of two), the time to first token when
/// the engine fetches P tokens of KV from a peer over an emulated link (measured: a real peer data plane through
/// <see cref="LinkShaperProxy"/>) against re-prefilling them (measured with the reference engine on this machine's
/// CPU, or the device's prefill profile), the prefix length from which fetching wins, and how close the policy's
/// cost model (<see cref="CostModel.CrossoverTokens"/>) comes to it from the nominal link and the profile alone.
/// </summary>
public static class CrossoverBenchmark
{
    /// <summary>Target: the predicted crossover within this fraction of the measured one.</summary>
    public const double ErrorTarget = 0.20;

    private const string PeerId = "crossover-peer";

    /// <summary>Runs the benchmark.</summary>
    public static CrossoverBenchResult Run(CrossoverBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken ct = default) =>
        RunAsync(options, progress, ct).GetAwaiter().GetResult();

    /// <inheritdoc cref="Run"/>
    public static async Task<CrossoverBenchResult> RunAsync(CrossoverBenchOptions options, IProgress<BenchProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var wall = Stopwatch.StartNew();
        var sweep = options.Sweep;
        var profile = options.Profile;
        var geometry = options.Geometry;

        var (transferRuns, calibration) = await MeasureFetchesAsync(options, sweep, progress, ct).ConfigureAwait(false);
        var measured = MeasureRecomputes(options, sweep, progress, ct);

        // The policy's prediction from what it knows before any transfer: the nominal link and the profile.
        var prior = options.Link.ToPrior();
        var source = FetchSource.Peer(PeerId);
        var links = new LinkCostModel(TimeProvider.System, new LinkModelOptions { PeerPrior = prior });
        var cost = new CostModel(geometry, new PrefillCostModel(profile), links);

        // And as a sidecar runs it: the link model has learned online from earlier transfers (the calibration fetches,
        // of other sizes than the sweep's); the prefill model is the profile. Nothing from the sweep feeds it.
        var calibrated = new CostModel(geometry, new PrefillCostModel(profile),
            new LinkCostModel(TimeProvider.System, new LinkModelOptions { PeerPrior = prior }));
        foreach (var (blocks, ms) in calibration)
        {
            calibrated.ObserveFetch(source, blocks, TimeSpan.FromMilliseconds(ms));
        }

        var rows = new List<CrossoverRow>(sweep.Count);
        for (var i = 0; i < sweep.Count; i++)
        {
            var p = sweep[i];
            var (recomputeMs, stepMs, recomputeSource) = measured[i] is { } m
                ? (m.PrefillMs, m.StepMs, "measured")
                : (profile.RecomputeMs(p, 0), profile.RecomputeMs(1, p), options.MeasuresRecompute ? "projected" : "profile");
            var blocks = options.BlocksFor(p);
            var transferMs = Throughput.Median(transferRuns[i]);
            var fetchMs = transferMs + stepMs;
            rows.Add(new CrossoverRow
            {
                Tokens = p,
                Blocks = blocks,
                TransferMs = transferMs,
                EngineStepMs = stepMs,
                FetchMs = fetchMs,
                RecomputeMs = recomputeMs,
                RecomputeSource = recomputeSource,
                FetchWins = fetchMs < recomputeMs,
                TransferGbPerS = (double)blocks * geometry.BytesPerBlock / (transferMs * 1e6),
                PredictedFetchMs = calibrated.Links.FetchMs(source, (double)p * geometry.BytesPerToken) + calibrated.RecomputeMs(1, p),
                PredictedRecomputeMs = calibrated.RecomputeMs(p, 0),
            });
        }

        var (crossover, below) = MeasuredCrossover(rows);
        var predicted = calibrated.CrossoverTokens(source);
        var predictedPrior = cost.CrossoverTokens(source);
        progress?.Report(new BenchProgress("done", 1));
        return new CrossoverBenchResult
        {
            Model = options.Model,
            Device = options.Device,
            Link = options.Link.Text,
            CrossoverTokensMeasured = crossover,
            CrossoverTokensPredicted = predicted,
            CrossoverBelowSweep = below,
            CrossoverError = Error(predicted, crossover, below),
            CrossoverTokensPredictedPrior = predictedPrior,
            CrossoverErrorPrior = Error(predictedPrior, crossover, below),
            CalibrationFetches = calibration.Select(c => c.Blocks).ToArray(),
            LinkRateFraction = RateFraction(options, rows[^1]),
            RecomputeSource = rows.Select(r => r.RecomputeSource).Distinct().ToArray() switch
            {
                [var only] => only,
                _ => "measured+projected",
            },
            ProfileSource = profile.Source,
            PriorSetupMs = prior.Setup.TotalMilliseconds,
            PriorRttMs = prior.Rtt.TotalMilliseconds,
            PriorGbPerS = prior.BandwidthBytesPerSecond / 1e9,
            BlockBytes = geometry.BytesPerBlock,
            BlockTokens = geometry.BlockTokens,
            SetBlocks = options.SetBlocks,
            Runs = options.Runs,
            MaxMeasuredTokens = options.MeasuresRecompute ? options.MaxMeasuredTokens : 0,
            WallSeconds = wall.Elapsed.TotalSeconds,
            Rows = rows,
        };
    }

    // The longest fetch's payload rate with the link's round trip taken out, over the line rate.
    private static double? RateFraction(CrossoverBenchOptions options, CrossoverRow longest)
    {
        if (options.Link.IsLocal)
        {
            return null;
        }

        var seconds = (longest.TransferMs - options.Link.Rtt.TotalMilliseconds) / 1e3;
        return seconds > 0 ? (double)longest.Blocks * options.Geometry.BytesPerBlock / seconds / options.Link.BytesPerSecond : null;
    }

    private static double? Error(int? predicted, int? measured, bool belowSweep) =>
        measured is { } m && !belowSweep && predicted is { } p ? Math.Abs(p - m) / (double)m : null;

    /// <summary>
    /// The shortest prefix from which fetching wins at every longer swept length: interpolated linearly in log2 P
    /// between the last losing row and the first winning one, on fetch − recompute. Null when the longest row loses;
    /// the shortest row's length, flagged as a bound, when every row wins.
    /// </summary>
    internal static (int? Tokens, bool BelowSweep) MeasuredCrossover(IReadOnlyList<CrossoverRow> rows)
    {
        var first = rows.Count;
        while (first > 0 && rows[first - 1].FetchWins)
        {
            first--;
        }

        if (first == rows.Count)
        {
            return (null, false);
        }

        if (first == 0)
        {
            return (rows[0].Tokens, true);
        }

        var (lose, win) = (rows[first - 1], rows[first]);
        var gapLose = lose.FetchMs - lose.RecomputeMs; // ≥ 0
        var gapWin = win.FetchMs - win.RecomputeMs;    // < 0
        var x0 = Math.Log2(lose.Tokens);
        var x = x0 + ((Math.Log2(win.Tokens) - x0) * gapLose / (gapLose - gapWin));
        return ((int)Math.Clamp(Math.Round(Math.Pow(2, x)), lose.Tokens, win.Tokens), false);
    }

    // Transfer ms of every timed run, per swept length. Untimed first: the whole set and 16 fetches of a few blocks, repeated for the
    // warm-up time (connection, JIT, the proxy's threads), and one run of each length that fits in the set.
    private static async Task<(double[][] Sweep, List<(int Blocks, double Ms)> Calibration)> MeasureFetchesAsync(
        CrossoverBenchOptions options, IReadOnlyList<int> sweep, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        await using var fetcher = await CrossoverFetcher.StartAsync(options, progress, ct).ConfigureAwait(false);
        progress?.Report(new BenchProgress("warm-up", 0));
        var warm = Stopwatch.StartNew();
        do
        {
            await fetcher.FetchAsync(options.SetBlocks, ct).ConfigureAwait(false);
            for (var i = 0; i < 16; i++)
            {
                await fetcher.FetchAsync(Math.Min(4, options.SetBlocks), ct).ConfigureAwait(false);
            }

            progress?.Report(new BenchProgress("warm-up", Math.Min(1, warm.Elapsed / options.WarmUp)));
        }
        while (warm.Elapsed < options.WarmUp);

        // Calibration: what the sidecar's link model would have seen before this request: fetches of 3 × 2^k blocks,
        // sizes no swept length has (the sweep is powers of two), small to as large as the sweep's long end (the
        // crossover sits where fetch and recompute grow almost alike, so the slope must be learned where it matters).
        var calibration = new List<(int Blocks, double Ms)>();
        int[] sizes = [.. new[] { 48, 384, 3072 }.Select(b => Math.Min(b, Math.Max(1, options.BlocksFor(sweep[^1]) * 3 / 4)))];
        foreach (var blocks in sizes)
        {
            for (var run = 0; run < 2; run++)
            {
                progress?.Report(new BenchProgress("calibrate", calibration.Count / (2.0 * sizes.Length)));
                calibration.Add((blocks, (await fetcher.FetchAsync(blocks, ct).ConfigureAwait(false)).TotalMilliseconds));
            }
        }

        int Untimed(int p) => options.BlocksFor(p) <= options.SetBlocks ? 1 : 0;
        var total = sweep.Sum(p => (double)options.BlocksFor(p) * (options.Runs + Untimed(p)));
        var done = 0.0;
        var all = new double[sweep.Count][];
        for (var i = 0; i < sweep.Count; i++)
        {
            var blocks = options.BlocksFor(sweep[i]);
            var runs = new double[options.Runs];
            for (var run = -Untimed(sweep[i]); run < options.Runs; run++)
            {
                progress?.Report(new BenchProgress("fetch", done / total));
                var elapsed = await fetcher.FetchAsync(blocks, ct).ConfigureAwait(false);
                if (run >= 0)
                {
                    runs[run] = elapsed.TotalMilliseconds;
                }

                done += blocks;
            }

            all[i] = runs;
        }

        progress?.Report(new BenchProgress("fetch", 1));
        return (all, calibration);
    }

    // Measured prefill and one-token step per swept length, where this machine is the profile's device and the
    // length is within the measured range; null elsewhere (the profile stands in).
    private static (double PrefillMs, double StepMs)?[] MeasureRecomputes(CrossoverBenchOptions options, IReadOnlyList<int> sweep,
        IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var results = new (double PrefillMs, double StepMs)?[sweep.Count];
        var measured = options.MeasuresRecompute ? sweep.Where(p => p <= options.MaxMeasuredTokens).ToArray() : [];
        if (measured.Length == 0)
        {
            return results;
        }

        progress?.Report(new BenchProgress("recompute", 0));
        var engine = new CrossoverRecompute(options.Preset, measured.Max());
        engine.WarmUp(options.WarmUp);
        var profile = options.Profile;
        var total = measured.Sum(p => profile.RecomputeMs(p, 0));
        var done = 0.0;
        for (var i = 0; i < sweep.Count && sweep[i] <= options.MaxMeasuredTokens; i++)
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new BenchProgress("recompute", done / total));
            results[i] = engine.Measure(sweep[i], options.Runs);
            done += profile.RecomputeMs(sweep[i], 0);
        }

        progress?.Report(new BenchProgress("recompute", 1));
        return results;
    }
}
