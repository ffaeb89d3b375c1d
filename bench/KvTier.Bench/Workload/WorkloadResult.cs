using System.Text.Json.Serialization;

namespace KvTier.Bench;

/// <summary>One policy's figures over one workload (JSON contract of <c>bench workload</c>).</summary>
public sealed class PolicyResult
{
    [JsonPropertyName("requests")] public long Requests { get; init; }

    [JsonPropertyName("ttft_mean_ms")] public double TtftMeanMs { get; init; }

    [JsonPropertyName("ttft_p50_ms")] public double TtftP50Ms { get; init; }

    [JsonPropertyName("ttft_p99_ms")] public double TtftP99Ms { get; init; }

    /// <summary>Share of prompt tokens this policy took from the cache instead of prefilling.</summary>
    [JsonPropertyName("hit_rate")] public double HitRate { get; init; }

    [JsonPropertyName("prefill_tokens_saved")] public long PrefillTokensSaved { get; init; }

    /// <summary>GPU seconds spent prefilling under this policy (profile time of the tokens it computed).</summary>
    [JsonPropertyName("prefill_gpu_s")] public double PrefillGpuSeconds { get; init; }

    /// <summary>Input cost relative to no cache: prefilled tokens at 1×, cache reads at 0.1×, cache writes at 1.25×.</summary>
    [JsonPropertyName("cost_relative")] public double CostRelative { get; init; }
}

/// <summary>One workload's results (JSON contract of <c>bench workload</c>).</summary>
public sealed record WorkloadResult
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("link")] public required string Link { get; init; }

    [JsonPropertyName("requests")] public int Requests { get; init; }

    [JsonPropertyName("prompt_tokens_mean")] public double PromptTokensMean { get; init; }

    /// <summary>recompute, always_fetch, policy, oracle.</summary>
    [JsonPropertyName("policies")] public required Dictionary<string, PolicyResult> Policies { get; init; }

    /// <summary>Cached share of prompt tokens by turn index (workloads with turns).</summary>
    [JsonPropertyName("hit_rate_by_turn")] public Dictionary<string, double>? HitRateByTurn { get; init; }

    /// <summary>Bytes written to the tier per byte read from it, under the policy.</summary>
    [JsonPropertyName("write_read_ratio")] public double? WriteReadRatio { get; init; }

    /// <summary>fleet-restart-stampede: how many engines prefilled the shared prefix.</summary>
    [JsonPropertyName("prefill_runs_of_shared_prefix")] public int? PrefillRunsOfSharedPrefix { get; init; }

    /// <summary>fleet-restart-stampede: engines cold at once.</summary>
    [JsonPropertyName("engines")] public int? Engines { get; init; }

    /// <summary>noisy-neighbour: the quiet tenant's cached share of prompt tokens.</summary>
    [JsonPropertyName("victim_hit_rate")] public double? VictimHitRate { get; init; }

    /// <summary>policy mean TTFT ÷ oracle mean TTFT (target ≤ 1.05).</summary>
    [JsonPropertyName("policy_vs_oracle")] public double PolicyVsOracle { get; init; }

    /// <summary>policy mean TTFT ÷ recompute mean TTFT (target ≤ 1.05; below 1 is a speed-up).</summary>
    [JsonPropertyName("policy_vs_recompute")] public double PolicyVsRecompute { get; init; }

    [JsonPropertyName("capacity_blocks")] public int? CapacityBlocks { get; init; }

    /// <summary>trace-replay: KvTier's retention as the store runs it (a real FASTER log at the capacity).</summary>
    [JsonPropertyName("token_hit_rate")] public double? TokenHitRate { get; init; }

    /// <summary>trace-replay: the same retention rule on an ideal pool (evicts any block at once, no log copies).</summary>
    [JsonPropertyName("pool_token_hit_rate")] public double? PoolTokenHitRate { get; init; }

    /// <summary>trace-replay: the store with <c>--retention fifo</c> (oldest first, reads near the head get a second chance).</summary>
    [JsonPropertyName("fifo_token_hit_rate")] public double? FifoTokenHitRate { get; init; }

    [JsonPropertyName("lru_token_hit_rate")] public double? LruTokenHitRate { get; init; }

    [JsonPropertyName("ceiling_token_hit_rate")] public double? CeilingTokenHitRate { get; init; }

    /// <summary>trace-replay: token hit rates of KvTier's retention and LRU at each capacity swept.</summary>
    [JsonPropertyName("capacity_sweep")] public List<CapacityPoint>? CapacitySweep { get; init; }

    /// <summary>Per-request TTFTs by policy, for the plots (not serialized).</summary>
    [JsonIgnore] public Dictionary<string, IReadOnlyList<double>> TtftSamples { get; init; } = [];
}

/// <summary>
/// trace-replay hit rates at one capacity: KvTier's retention in the store, the same rule on an ideal pool, the store
/// with FIFO retention, and plain LRU.
/// </summary>
public sealed record CapacityPoint(
    [property: JsonPropertyName("capacity_blocks")] int CapacityBlocks,
    [property: JsonPropertyName("kvtier_token_hit_rate")] double KvTierTokenHitRate,
    [property: JsonPropertyName("pool_token_hit_rate")] double PoolTokenHitRate,
    [property: JsonPropertyName("fifo_token_hit_rate")] double FifoTokenHitRate,
    [property: JsonPropertyName("lru_token_hit_rate")] double LruTokenHitRate);

/// <summary>The whole <c>bench workload</c> result.</summary>
public sealed class WorkloadBenchResult
{
    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("device")] public required string Device { get; init; }

    /// <summary>Where recompute times come from (the prefill profile's stated source).</summary>
    [JsonPropertyName("recompute_source")] public required string RecomputeSource { get; init; }

    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>The engine overlapped layer-wise fetch and compute (a modelled engine capability).</summary>
    [JsonPropertyName("layerwise")] public bool Layerwise { get; init; }

    /// <summary>The planner's --min-fetch-tokens.</summary>
    [JsonPropertyName("min_fetch_tokens")] public int MinFetchTokens { get; init; }

    /// <summary>The planner's --min-saving-ms.</summary>
    [JsonPropertyName("min_saving_ms")] public double MinSavingMs { get; init; }

    [JsonPropertyName("workloads")] public required List<WorkloadResult> Workloads { get; init; }

    [JsonPropertyName("seconds")] public double Seconds { get; init; }
}
