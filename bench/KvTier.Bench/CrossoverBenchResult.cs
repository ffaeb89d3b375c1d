using System.Text.Json.Serialization;

namespace KvTier.Bench;

/// <summary>
/// What <c>kvtier bench crossover</c> found: per prefix length, fetching its KV from a peer against re-prefilling it,
/// measured and as the policy predicts, and the prefix length from which fetching wins. JSON names are a contract.
/// </summary>
public sealed record CrossoverBenchResult
{
    /// <summary>The model preset (geometry and profile).</summary>
    [JsonPropertyName("model")] public string Model { get; init; } = "";

    /// <summary>The prefill profile's device.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "";

    /// <summary>The emulated link, canonical form (<c>25gbit:rtt=100us</c>, or <c>local</c>).</summary>
    [JsonPropertyName("link")] public string Link { get; init; } = "";

    /// <summary>
    /// Measured: the shortest prefix from which fetching is faster, interpolated linearly in log2 tokens between the
    /// two swept lengths where fetch − recompute changes sign; null when fetching never wins within the sweep. When
    /// fetching wins at every swept length this is the shortest one, a bound (<see cref="CrossoverBelowSweep"/>).
    /// </summary>
    [JsonPropertyName("crossover_tokens_measured")] public int? CrossoverTokensMeasured { get; init; }

    /// <summary>
    /// The policy's prediction, <c>CostModel.CrossoverTokens</c>, made before the sweep by the model as a sidecar
    /// runs it: the link model has learned online (<c>ObserveFetch</c>) from a few calibration fetches of other sizes
    /// than the sweep's, and the prefill model is the profile. None of the swept transfers feed it.
    /// </summary>
    [JsonPropertyName("crossover_tokens_predicted")] public int? CrossoverTokensPredicted { get; init; }

    /// <summary>|predicted − measured| / measured (target ≤ 0.2); null when either is missing or the measured one is only a bound.</summary>
    [JsonPropertyName("crossover_error")] public double? CrossoverError { get; init; }

    /// <summary>
    /// The same model before any transfer: the nominal link prior alone. Against the calibrated prediction it shows
    /// how far the link's nominal rate is from what this machine carries.
    /// </summary>
    [JsonPropertyName("crossover_tokens_predicted_prior")] public int? CrossoverTokensPredictedPrior { get; init; }

    /// <summary>|prior prediction − measured| / measured; null like <see cref="CrossoverError"/>.</summary>
    [JsonPropertyName("crossover_error_prior")] public double? CrossoverErrorPrior { get; init; }

    /// <summary>Calibration fetches the link model learned from before the sweep (blocks per fetch × runs).</summary>
    [JsonPropertyName("calibration_fetches")] public IReadOnlyList<int> CalibrationFetches { get; init; } = [];

    /// <summary>
    /// The longest row's transfer rate, its round trip taken out, over the link's line rate (null for local): well
    /// below 1 the machine's CPUs, not the emulated link, limited the fetch. The crossover is sensitive to it: where recompute costs about as much per
    /// token as fetching, a few percent of bandwidth move it by thousands of tokens.
    /// </summary>
    [JsonPropertyName("link_rate_fraction")] public double? LinkRateFraction { get; init; }

    /// <summary>True when fetching already won at the shortest swept length: the measured crossover is at or below it.</summary>
    [JsonPropertyName("crossover_below_sweep")] public bool CrossoverBelowSweep { get; init; }

    /// <summary>
    /// Where the recompute figures come from: <c>measured</c> (the reference engine, here), <c>profile</c>, or
    /// <c>measured+projected</c> (measured up to <see cref="MaxMeasuredTokens"/>, the profile above).
    /// </summary>
    [JsonPropertyName("recompute_source")] public string RecomputeSource { get; init; } = "";

    /// <summary>The prefill profile's own statement of where its numbers come from.</summary>
    [JsonPropertyName("profile_source")] public string ProfileSource { get; init; } = "";

    /// <summary>The link prior the prediction used: per-request setup, ms.</summary>
    [JsonPropertyName("prior_setup_ms")] public double PriorSetupMs { get; init; }

    /// <summary>The link prior the prediction used: round trip, ms.</summary>
    [JsonPropertyName("prior_rtt_ms")] public double PriorRttMs { get; init; }

    /// <summary>The link prior the prediction used: bandwidth, GB/s.</summary>
    [JsonPropertyName("prior_gb_per_s")] public double PriorGbPerS { get; init; }

    /// <summary>Bytes of one KV block of the model.</summary>
    [JsonPropertyName("block_bytes")] public long BlockBytes { get; init; }

    /// <summary>Tokens per block.</summary>
    [JsonPropertyName("block_tokens")] public int BlockTokens { get; init; }

    /// <summary>Distinct blocks the peer held; longer prefixes cycle through them.</summary>
    [JsonPropertyName("set_blocks")] public int SetBlocks { get; init; }

    /// <summary>Timed runs per row (median reported).</summary>
    [JsonPropertyName("runs")] public int Runs { get; init; }

    /// <summary>Longest prefix whose recompute was run for real (when the device is measured here).</summary>
    [JsonPropertyName("max_measured_tokens")] public int MaxMeasuredTokens { get; init; }

    /// <summary>Cores of the machine that ran the benchmark.</summary>
    [JsonPropertyName("cores")] public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>Wall time of the whole run, seconds.</summary>
    [JsonPropertyName("wall_s")] public double WallSeconds { get; init; }

    /// <summary>One row per swept prefix length, shortest first.</summary>
    [JsonPropertyName("rows")] public IReadOnlyList<CrossoverRow> Rows { get; init; } = [];
}

/// <summary>One swept prefix length.</summary>
public sealed record CrossoverRow
{
    /// <summary>Prefix length P, tokens.</summary>
    [JsonPropertyName("tokens")] public int Tokens { get; init; }

    /// <summary>
    /// Measured time to first token when fetching the prefix: the median fetch of its blocks over the peer data plane
    /// through the link (<see cref="TransferMs"/>) plus the engine's one-token prefill given P cached (<see cref="EngineStepMs"/>).
    /// </summary>
    [JsonPropertyName("fetch_ms")] public double FetchMs { get; init; }

    /// <summary>Time to first token when re-prefilling all P tokens: measured, or from the profile (<see cref="RecomputeSource"/>).</summary>
    [JsonPropertyName("recompute_ms")] public double RecomputeMs { get; init; }

    /// <summary>The policy's fetch-all estimate: link prior setup + rtt + bytes / bandwidth, plus the profile's one-token prefill.</summary>
    [JsonPropertyName("predicted_fetch_ms")] public double PredictedFetchMs { get; init; }

    /// <summary>The policy's recompute estimate from the profile.</summary>
    [JsonPropertyName("predicted_recompute_ms")] public double PredictedRecomputeMs { get; init; }

    /// <summary>True when the measured fetch is faster than the recompute.</summary>
    [JsonPropertyName("fetch_wins")] public bool FetchWins { get; init; }

    /// <summary><c>measured</c>, <c>projected</c> (profile, above the measured range) or <c>profile</c>.</summary>
    [JsonPropertyName("recompute_source")] public string RecomputeSource { get; init; } = "";

    /// <summary>Blocks fetched.</summary>
    [JsonPropertyName("blocks")] public int Blocks { get; init; }

    /// <summary>The fetch alone, median: request sent to last block copied into the destination.</summary>
    [JsonPropertyName("transfer_ms")] public double TransferMs { get; init; }

    /// <summary>The one-token prefill after P cached tokens (measured with the recompute, else the profile's).</summary>
    [JsonPropertyName("engine_step_ms")] public double EngineStepMs { get; init; }

    /// <summary>Payload GB/s of the median fetch (the link's rate is the ceiling; the CPU may be a lower one).</summary>
    [JsonPropertyName("transfer_gb_per_s")] public double TransferGbPerS { get; init; }
}
