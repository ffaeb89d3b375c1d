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
    /// its best plan now. Default 1.1: a request gives up to 10 % of its TTFT so that the fleet does not prefill
    /// the same prefix many times over in a stampede.
    /// </summary>
    public double WaitToleranceRatio { get; init; } = 1.1;

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
                nameof(WaitToleranceRatio), WaitToleranceRatio, "WaitToleranceRatio must be a finite number ≥ 1 (default 1.1).");
        }
    }
}
