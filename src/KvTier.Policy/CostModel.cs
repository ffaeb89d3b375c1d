using KvTier.Core;

namespace KvTier.Policy;

/// <summary>
/// The costs one model sees: fetching n blocks of its geometry from a source (the shared <see cref="LinkCostModel"/>)
/// and re-prefilling tokens on its device (its <see cref="PrefillCostModel"/>). One per (model, device) on a node.
/// </summary>
public sealed class CostModel
{
    /// <summary>Combines a model's geometry and prefill cost with the node's links.</summary>
    public CostModel(ModelGeometry geometry, PrefillCostModel prefill, LinkCostModel links)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(links);
        Geometry = geometry;
        Prefill = prefill;
        Links = links;
    }

    /// <summary>The model's KV geometry: bytes per block, tokens per block, layers.</summary>
    public ModelGeometry Geometry { get; }

    /// <summary>The model's re-prefill cost (learns from <see cref="PrefillCostModel.ObservePrefill"/>).</summary>
    public PrefillCostModel Prefill { get; }

    /// <summary>The node's link costs (learn from <see cref="LinkCostModel.ObserveFetch"/>).</summary>
    public LinkCostModel Links { get; }

    /// <summary>fetch_ms(n) = setup + rtt + n × bytes_per_block / bandwidth; infinity when the source is down.</summary>
    public double FetchMs(FetchSource source, int blocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        return Links.FetchMs(source, (double)blocks * Geometry.BytesPerBlock);
    }

    /// <summary>recompute_ms(n | c) = overhead + linear × n + attention × n × (c + n/2).</summary>
    public double RecomputeMs(int tokens, int cachedTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        return Prefill.RecomputeMs(tokens, cachedTokens);
    }

    /// <summary>Records a fetch of <paramref name="blocks"/> of this model's blocks (the engine's or sidecar's timing).</summary>
    public void ObserveFetch(FetchSource source, int blocks, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        Links.ObserveFetch(source, blocks * Geometry.BytesPerBlock, elapsed);
    }

    /// <summary>Records a prefill the engine ran (its <c>ReportTiming</c>): the prefill model refits.</summary>
    public void ObservePrefill(int tokens, int cachedTokens, TimeSpan elapsed) => Prefill.ObservePrefill(tokens, cachedTokens, elapsed);

    /// <summary>
    /// The predicted crossover: the shortest prompt prefix, in tokens, from which fetching all of it from
    /// <paramref name="source"/> gives a first token no later than re-prefilling it. Fetch-all TTFT is
    /// fetch_ms(P tokens of KV) + recompute_ms(1 | P) (the engine still runs the last token); recompute-all TTFT is
    /// recompute_ms(P | 0); no layer-wise overlap. Continuous in tokens (no block rounding). Null when fetching never
    /// wins below <paramref name="maxTokens"/>, or the source is down.
    /// </summary>
    /// <remarks>
    /// The gap recompute − fetch is a convex quadratic in P (the attention term grows as P², the fetch linearly)
    /// that starts negative (the fetch's setup and rtt), so it crosses zero at most once and stays positive after:
    /// bisection finds the crossing exactly.
    /// </remarks>
    public int? CrossoverTokens(FetchSource source, int maxTokens = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        var link = Links.Estimate(source);
        if (link.IsDown)
        {
            return null;
        }

        var prefill = Prefill.Snapshot();
        bool FetchWins(int p) =>
            link.FetchMs((double)p * Geometry.BytesPerToken) + prefill.RecomputeMs(1, p) <= prefill.RecomputeMs(p, 0);

        if (!FetchWins(maxTokens))
        {
            return null;
        }

        int low = 0, high = maxTokens; // FetchWins(high) holds; FetchWins(low) is treated as false
        while (high - low > 1)
        {
            var mid = low + ((high - low) / 2);
            if (FetchWins(mid))
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }

        return high;
    }
}
