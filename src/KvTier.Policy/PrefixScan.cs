using System.Globalization;

namespace KvTier.Policy;

/// <summary>
/// One planning pass: resolves the cached runs to live sources, then scans j = 1..k (fetch the first j blocks,
/// recompute the rest) and keeps the lowest TTFT that passes the thresholds.
/// </summary>
internal sealed class PrefixScan
{
    private readonly CostModel _cost;
    private readonly PolicyOptions _options;
    private readonly PlanRequest _request;
    private readonly int _blockTokens;
    private readonly int _totalTokens;
    private readonly PrefillCoefficients _prefill;
    private readonly Dictionary<FetchSource, LinkEstimate> _links = [];
    private readonly List<FetchAssignment> _runs = [];

    private PrefixScan(CostModel cost, PolicyOptions options, PlanRequest request)
    {
        _cost = cost;
        _options = options;
        _request = request;
        _blockTokens = cost.Geometry.BlockTokens;
        _totalTokens = (request.ChainBlocks * _blockTokens) + request.TailTokens;
        _prefill = cost.Prefill.Snapshot();
    }

    public static Plan Run(CostModel cost, PolicyOptions options, PlanRequest request)
    {
        Validate(request);
        return new PrefixScan(cost, options, request).Evaluate();
    }

    private Plan Evaluate()
    {
        var recomputeAll = _prefill.RecomputeMs(_totalTokens, 0);
        var (reachable, cut) = Resolve();
        var cached = _request.Cached.Sum(r => r.Blocks);
        if (reachable == 0)
        {
            var why = cached == 0 ? "nothing of the prompt is cached" : $"the cached prefix is only on down sources ({cut})";
            return Recompute(recomputeAll, double.PositiveInfinity, $"recompute: {why}");
        }

        // Scan every split point, adding one block at a time to its source's load.
        var bytesPerBlock = (double)_cost.Geometry.BytesPerBlock;
        var loads = new Dictionary<FetchSource, double>();
        double bestTtft = recomputeAll, bestFetch = 0, fetchAllTtft = 0;
        int bestJ = 0, run = 0, inRun = 0;
        for (var j = 1; j <= reachable; j++)
        {
            var source = _runs[run].Source;
            loads[source] = loads.GetValueOrDefault(source) + bytesPerBlock;
            if (++inRun == _runs[run].Blocks)
            {
                run++;
                inRun = 0;
            }

            var fetch = FetchMs(loads);
            var ttft = Combine(fetch, _prefill.RecomputeMs(_totalTokens - (j * _blockTokens), j * _blockTokens));
            if (j == reachable)
            {
                fetchAllTtft = ttft;
            }

            if (j * _blockTokens >= _options.MinFetchTokens && ttft < bestTtft)
            {
                (bestTtft, bestFetch, bestJ) = (ttft, fetch, j);
            }
        }

        var unreachable = cut is null ? string.Empty : $"; blocks from {reachable} on are only on down sources ({cut})";
        if (reachable * _blockTokens < _options.MinFetchTokens)
        {
            return Recompute(recomputeAll, fetchAllTtft,
                $"recompute: the reachable cached prefix of {reachable * _blockTokens} tokens is under the minimum fetch of {_options.MinFetchTokens}{unreachable}");
        }

        if (bestJ == 0)
        {
            return Recompute(recomputeAll, fetchAllTtft,
                $"recompute: {Ms(recomputeAll)} beats every fetch plan (fetch all {Ms(fetchAllTtft)}){unreachable}");
        }

        var saving = recomputeAll - bestTtft;
        if (saving < _options.MinSavingMs)
        {
            return Recompute(recomputeAll, fetchAllTtft,
                $"recompute: the best fetch plan ({bestJ} blocks, {Ms(bestTtft)}) saves {Ms(saving)}, under the minimum saving of {Ms(_options.MinSavingMs)}{unreachable}");
        }

        var decision = bestJ == reachable ? PlanDecision.Fetch : PlanDecision.Split;
        var fetches = Truncate(bestJ);
        var recomputeTokens = _totalTokens - (bestJ * _blockTokens);
        var mode = _request.LayerwiseOverlap ? "overlapped" : "then";
        var from = string.Join(", ", fetches.GroupBy(f => f.Source).Select(g => $"{g.Sum(f => f.Blocks)} from {g.Key}"));
        var reason = decision == PlanDecision.Fetch
            ? $"fetch {bestJ} blocks ({from}) {mode} compute {recomputeTokens} tokens: {Ms(bestTtft)} vs recompute {Ms(recomputeAll)}{unreachable}"
            : $"split: fetch {bestJ} of {reachable} cached blocks ({from}) {mode} compute {recomputeTokens} tokens: {Ms(bestTtft)} vs fetch all {Ms(fetchAllTtft)} vs recompute {Ms(recomputeAll)}{unreachable}";
        return new Plan(decision, fetches, bestJ, bestJ * _blockTokens, recomputeTokens, bestFetch, bestTtft, fetchAllTtft, recomputeAll, reason);
    }

    /// <summary>
    /// Assigns each run to one of its live sources, greedily, so as to keep the plan's fetch time lowest; stops at the
    /// first run with no live source (the prefix must be consecutive). Returns the reachable blocks and, when the
    /// prefix was cut short, the down sources that cut it.
    /// </summary>
    private (int Reachable, string? Cut) Resolve()
    {
        var loads = new Dictionary<FetchSource, double>();
        var reachable = 0;
        foreach (var run in _request.Cached)
        {
            var bytes = (double)run.Blocks * _cost.Geometry.BytesPerBlock;
            FetchSource? best = null;
            var bestMs = double.PositiveInfinity;
            foreach (var source in run.Sources)
            {
                if (Link(source).IsDown)
                {
                    continue;
                }

                loads[source] = loads.GetValueOrDefault(source) + bytes;
                var ms = FetchMs(loads);
                loads[source] -= bytes;
                if (ms < bestMs)
                {
                    (best, bestMs) = (source, ms);
                }
            }

            if (best is not { } chosen)
            {
                return (reachable, string.Join(", ", run.Sources));
            }

            loads[chosen] = loads.GetValueOrDefault(chosen) + bytes;
            _runs.Add(new FetchAssignment(chosen, reachable, run.Blocks));
            reachable += run.Blocks;
        }

        return (reachable, null);
    }

    /// <summary>The fetch stream's time for these per-source loads: the slowest source, or the sum when sequential.</summary>
    private double FetchMs(Dictionary<FetchSource, double> loads)
    {
        var total = 0.0;
        foreach (var (source, bytes) in loads)
        {
            if (bytes <= 0)
            {
                continue;
            }

            var ms = Link(source).FetchMs(bytes);
            total = _options.SourcesInParallel ? Math.Max(total, ms) : total + ms;
        }

        return total;
    }

    /// <summary>
    /// TTFT of a fetch stream and a compute stream. With layer-wise overlap the engine computes layer i while layer
    /// i+1 arrives, so the longer stream sets the pace and the shorter adds one layer's worth of pipeline fill
    /// (Cake, CachedAttention); without it the compute waits for the whole fetch.
    /// </summary>
    private double Combine(double fetchMs, double computeMs) => _request.LayerwiseOverlap
        ? Math.Max(fetchMs, computeMs) + (Math.Min(fetchMs, computeMs) / _cost.Geometry.Layers)
        : fetchMs + computeMs;

    private List<FetchAssignment> Truncate(int blocks)
    {
        var fetches = new List<FetchAssignment>();
        foreach (var run in _runs)
        {
            var take = Math.Min(run.Blocks, blocks - run.FirstBlock);
            if (take <= 0)
            {
                break;
            }

            if (fetches.Count > 0 && fetches[^1].Source == run.Source)
            {
                fetches[^1] = fetches[^1] with { Blocks = fetches[^1].Blocks + take };
            }
            else
            {
                fetches.Add(run with { Blocks = take });
            }
        }

        return fetches;
    }

    private Plan Recompute(double recomputeAll, double fetchAllTtft, string reason) =>
        new(PlanDecision.Recompute, [], 0, 0, _totalTokens, 0, recomputeAll, fetchAllTtft, recomputeAll, reason);

    private LinkEstimate Link(FetchSource source)
    {
        // One snapshot per source per plan: every candidate is judged on the same numbers.
        if (!_links.TryGetValue(source, out var estimate))
        {
            estimate = _cost.Links.Estimate(source);
            _links.Add(source, estimate);
        }

        return estimate;
    }

    private static string Ms(double ms) => double.IsPositiveInfinity(ms) ? "∞ ms" : ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private static void Validate(PlanRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Cached, nameof(request.Cached));
        ArgumentOutOfRangeException.ThrowIfNegative(request.ChainBlocks, nameof(request.ChainBlocks));
        ArgumentOutOfRangeException.ThrowIfNegative(request.TailTokens, nameof(request.TailTokens));
        if (request.ChainBlocks == 0 && request.TailTokens == 0)
        {
            throw new ArgumentException("the prompt is empty: ChainBlocks and TailTokens are both 0.", nameof(request));
        }

        var cached = 0L;
        foreach (var run in request.Cached)
        {
            ArgumentNullException.ThrowIfNull(run, nameof(request.Cached));
            if (run.Blocks <= 0 || run.Sources is null || run.Sources.Count == 0)
            {
                throw new ArgumentException(
                    $"a cached run needs a positive block count and at least one source (got {run.Blocks} blocks, {run.Sources?.Count ?? 0} sources).",
                    nameof(request));
            }

            cached += run.Blocks;
        }

        if (cached > request.ChainBlocks)
        {
            throw new ArgumentException(
                $"the cached runs cover {cached} blocks, more than the prompt's {request.ChainBlocks}.", nameof(request));
        }
    }
}
