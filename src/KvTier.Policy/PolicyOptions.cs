namespace KvTier.Policy;

/// <summary>The planner's thresholds and tolerances. Every property states its default.</summary>
public sealed class PolicyOptions
{
    /// <summary>
    /// Fetch only when the plan's first token comes at least this much sooner than recomputing everything
    /// (<c>--min-saving-ms</c>). Default 5 ms: below that the estimate's own error is larger than the gain.
    /// </summary>
    public double MinSavingMs { get; init; } = 5;

    /// <summary>
    /// Fetch only prefixes of at least this many tokens (<c>--min-fetch-tokens</c>). Default 256: short prompts
    /// re-prefill in a few milliseconds, and fetching them only adds tail latency and network load.
    /// </summary>
    public int MinFetchTokens { get; init; } = 256;

    /// <summary>
    /// A fetch may take this multiple of its estimate before its remaining blocks are handed back to recompute.
    /// Default 1.5.
    /// </summary>
    public double DeadlineSlack { get; init; } = 1.5;

    /// <summary>Added to every fetch deadline so that sub-millisecond fetches do not hand back on timer noise. Default 2 ms.</summary>
    public double DeadlineGraceMs { get; init; } = 2;

    /// <summary>
    /// A waiter waits for another engine's in-flight prefill when waiting then fetching is at most this multiple of
    /// its best plan now. Default 1.5: a request gives up to half its TTFT so that the fleet does not prefill the
    /// same prefix many times over in a stampede. A waiter that arrived with the holder pays the whole prefill plus
    /// the fetch, so a tolerance near 1 only ever waits where the fetch is under a tenth of the prefill (a CPU, or a
    /// huge model): on an H100 a 4K-token llama-3.1-8b prefix takes ~165 ms to prefill and ~45 ms to fetch from
    /// local DRAM (1.27×: wait), but ~170 ms over 25 Gbit/s (2×: recompute; waiting would not pay there).
    /// </summary>
    public double WaitToleranceRatio { get; init; } = 1.5;

    /// <summary>
    /// A holder past its ETA is still waited on while it is late by less than this fraction of the waiter's best
    /// plan now (as if it were about to finish); later than that it may be gone and the waiter goes ahead. Default
    /// 0.25: a holder that renews is alive, and one a little late is usually storing its last blocks; a dead one
    /// stops renewing and its lease lapses anyway.
    /// </summary>
    public double OverdueGraceRatio { get; init; } = 0.25;

    /// <summary>
    /// Fetches from different sources run at the same time (the plan's fetch time is the slowest source's), rather
    /// than one after another (the sum). Default true: the sidecar issues them concurrently.
    /// </summary>
    public bool SourcesInParallel { get; init; } = true;

    /// <summary>Checks the options; the message names the property and the fix.</summary>
    public void Validate()
    {
        if (!(MinSavingMs >= 0) || double.IsInfinity(MinSavingMs))
        {
            throw new ArgumentOutOfRangeException(nameof(MinSavingMs), MinSavingMs, "MinSavingMs must be a finite number ≥ 0 (default 5).");
        }

        if (MinFetchTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinFetchTokens), MinFetchTokens, "MinFetchTokens must be ≥ 0 (default 256).");
        }

        if (!(OverdueGraceRatio >= 0) || double.IsInfinity(OverdueGraceRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(OverdueGraceRatio), OverdueGraceRatio, "OverdueGraceRatio must be a finite number ≥ 0 (default 0.25).");
        }

        if (!(DeadlineSlack >= 1) || double.IsInfinity(DeadlineSlack))
        {
            throw new ArgumentOutOfRangeException(nameof(DeadlineSlack), DeadlineSlack, "DeadlineSlack must be a finite number ≥ 1 (default 1.5).");
        }

        if (!(DeadlineGraceMs >= 0) || double.IsInfinity(DeadlineGraceMs))
        {
            throw new ArgumentOutOfRangeException(nameof(DeadlineGraceMs), DeadlineGraceMs, "DeadlineGraceMs must be a finite number ≥ 0 (default 2).");
        }

        if (!(WaitToleranceRatio >= 1) || double.IsInfinity(WaitToleranceRatio))
        {
            throw new ArgumentOutOfRangeException(
                nameof(WaitToleranceRatio), WaitToleranceRatio, "WaitToleranceRatio must be a finite number ≥ 1 (default 1.5).");
        }
    }
}
