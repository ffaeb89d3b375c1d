using System.Globalization;
using System.Text;

namespace KvTier.Bench;

/// <summary>The markdown report of <c>kvtier bench workload</c>, with the issue's targets marked.</summary>
public static class WorkloadReport
{
    /// <summary>policy mean TTFT ≤ this × oracle's, on every workload.</summary>
    public const double OracleTarget = 1.05;

    /// <summary>policy mean TTFT ≤ this × recompute's, on every workload.</summary>
    public const double RecomputeTarget = 1.05;

    /// <summary>recompute ÷ policy mean TTFT on multi-turn-chat (shared prefix ≥ 4K tokens).</summary>
    public const double ChatSpeedupTarget = 3.0;

    /// <summary>trace-replay: KvTier retention's token hit rate ÷ LRU's at 10,000 blocks.</summary>
    public const double RetentionTarget = 1.15;

    /// <summary>Renders the result.</summary>
    public static string Markdown(WorkloadBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"# kvtier bench workload: {r.Model} on {r.Device}");
        s.AppendLine();
        s.AppendLine(c, $"Fetch times are measured: real verified reads from a FASTER store (local) or over the peer data plane through a shaped link. Recompute times come from the prefill profile: {r.RecomputeSource}");
        s.AppendLine();
        s.AppendLine("TTFT excludes queueing (requests run one after another). Cost: input price relative to no cache (prefill 1×, cache read 0.1×, cache write 1.25×). GPU s: prefill time the policy spent.");
        s.AppendLine();
        s.AppendLine(c, $"Engine: {(r.Layerwise ? "layer-wise overlap of fetch and compute (TTFT ≈ the longer stream)" : "fetch, then compute (TTFT = their sum)")}. Policy thresholds: fetch only prefixes of ≥ {r.MinFetchTokens} tokens that save ≥ {r.MinSavingMs} ms.");
        s.AppendLine();
        s.AppendLine("| workload | link | requests | mean prompt | policy | TTFT mean ms | p50 | p99 | hit rate | tokens saved | GPU s | cost | policy ÷ oracle | policy ÷ recompute |");
        s.AppendLine("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var w in r.Workloads)
        {
            foreach (var (name, p) in w.Policies)
            {
                var ratios = name == "policy"
                    ? $"{w.PolicyVsOracle:0.000} {Mark(w.PolicyVsOracle <= OracleTarget)} | {w.PolicyVsRecompute:0.000} {Mark(w.PolicyVsRecompute <= RecomputeTarget)}"
                    : " | ";
                s.AppendLine(c, $"| {w.Name} | {w.Link} | {w.Requests} | {w.PromptTokensMean:0} | {name} | {p.TtftMeanMs:0.0} | {p.TtftP50Ms:0.0} | {p.TtftP99Ms:0.0} | {p.HitRate:P1} | {p.PrefillTokensSaved:N0} | {p.PrefillGpuSeconds:0.00} | {p.CostRelative:0.00} | {ratios} |");
            }
        }

        s.AppendLine();
        s.AppendLine("## Targets");
        s.AppendLine();
        foreach (var w in r.Workloads)
        {
            s.Append(c, $"- {w.Name} @ {w.Link}: policy ÷ oracle {w.PolicyVsOracle:0.000} (≤ {OracleTarget} {Mark(w.PolicyVsOracle <= OracleTarget)}), policy ÷ recompute {w.PolicyVsRecompute:0.000} (≤ {RecomputeTarget} {Mark(w.PolicyVsRecompute <= RecomputeTarget)})");
            s.AppendLine((w.Name == "multi-turn-chat" ? FormattableString.Invariant($"; recompute ÷ policy {1 / w.PolicyVsRecompute:0.00}× (≥ {ChatSpeedupTarget} {Mark(1 / w.PolicyVsRecompute >= ChatSpeedupTarget)})") : "")
                + (w.PrefillRunsOfSharedPrefix is { } runs ? FormattableString.Invariant($"; {w.Engines} engines cold at once prefilled the shared prefix {runs}× (≤ 2 {Mark(runs <= 2)})") : "")
                + (w.VictimHitRate is { } v ? FormattableString.Invariant($"; the quiet tenant's hit rate {v:P1}") : "")
                + (w.WriteReadRatio is { } wr ? FormattableString.Invariant($"; write ÷ read {wr:0.00}") : ""));
        }

        foreach (var w in r.Workloads.Where(w => w.CapacitySweep is not null))
        {
            s.AppendLine();
            s.AppendLine(c, $"## trace-replay @ {w.Link}: token hit rate by retention and capacity (512-token trace blocks)");
            s.AppendLine();
            s.AppendLine(c, $"Unlimited-cache ceiling: {w.CeilingTokenHitRate:P2}. At {w.CapacityBlocks:N0} blocks KvTier's retention, in the store, reaches {w.TokenHitRate:P2} against LRU's {w.LruTokenHitRate:P2}: {w.TokenHitRate / w.LruTokenHitRate:0.000}× (≥ {RetentionTarget} {Mark(w.TokenHitRate / w.LruTokenHitRate >= RetentionTarget)}). "
                + $"The same rule on an ideal pool (any block evicted at once, no log copies) reaches {w.PoolTokenHitRate:P2} ({w.PoolTokenHitRate / w.LruTokenHitRate:0.000}×); the store with --retention fifo {w.FifoTokenHitRate:P2}.");
            s.AppendLine();
            s.AppendLine("| capacity blocks | LRU | store, FIFO | store, KvTier | KvTier ÷ LRU | KvTier rule, ideal pool |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var p in w.CapacitySweep!)
            {
                s.AppendLine(c, $"| {p.CapacityBlocks:N0} | {p.LruTokenHitRate:P2} | {p.FifoTokenHitRate:P2} | {p.KvTierTokenHitRate:P2} | {p.KvTierTokenHitRate / p.LruTokenHitRate:0.000} {Mark(p.KvTierTokenHitRate >= p.LruTokenHitRate)} | {p.PoolTokenHitRate:P2} |");
            }
        }

        s.AppendLine();
        var turns = r.Workloads.Where(w => w.HitRateByTurn is not null).ToList();
        if (turns.Count > 0)
        {
            s.AppendLine("## Cached share of prompt tokens by turn");
            s.AppendLine();
            foreach (var w in turns)
            {
                s.Append(c, $"- {w.Name} @ {w.Link}: ");
                s.AppendLine(string.Join(", ", w.HitRateByTurn!.Select(kv => FormattableString.Invariant($"turn {kv.Key} {kv.Value:P0}"))));
            }

            s.AppendLine();
        }

        s.AppendLine(c, $"Plots: ttft-cdf-*.png (TTFT CDF per policy), hit-rate-by-turn.png, trace-retention.png. Seed {r.Seed}; ran in {r.Seconds:0} s.");
        return s.ToString();
    }

    private static string Mark(bool ok) => ok ? "✅" : "❌";
}
