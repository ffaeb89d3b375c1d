namespace KvTier.Policy;

/// <summary>
/// A run of consecutive blocks of the cached prefix and every source that holds it (replicas); the planner picks
/// among the live ones.
/// </summary>
/// <param name="Blocks">Blocks in the run (positive).</param>
/// <param name="Sources">Sources holding the run, in preference order (ties go to the first).</param>
public sealed record CachedRun(int Blocks, IReadOnlyList<FetchSource> Sources)
{
    /// <summary>A run held by one source.</summary>
    public CachedRun(FetchSource source, int blocks)
        : this(blocks, [source])
    {
    }
}

/// <summary>What the engine asks: a prompt of <paramref name="ChainBlocks"/> full blocks, part of it cached.</summary>
/// <param name="ChainBlocks">Full blocks in the prompt (block size is the model geometry's).</param>
/// <param name="Cached">The cached prefix, as consecutive runs from block 0; their blocks sum to k_available.</param>
/// <param name="LayerwiseOverlap">The engine can compute layer i while layer i+1's KV is still arriving.</param>
/// <param name="TailTokens">Tokens after the last full block (a partial block has no key: always recomputed).</param>
public sealed record PlanRequest(int ChainBlocks, IReadOnlyList<CachedRun> Cached, bool LayerwiseOverlap, int TailTokens = 0);

/// <summary>The planner's choice.</summary>
public enum PlanDecision
{
    /// <summary>Re-prefill the whole prompt.</summary>
    Recompute,
    /// <summary>Fetch the whole reachable cached prefix, compute the rest.</summary>
    Fetch,
    /// <summary>Fetch only the first part of the cached prefix and recompute the rest of it too.</summary>
    Split,
}

/// <summary>Blocks [<paramref name="FirstBlock"/>, FirstBlock + Blocks) of the prompt, fetched from <paramref name="Source"/>.</summary>
public readonly record struct FetchAssignment(FetchSource Source, int FirstBlock, int Blocks);

/// <summary>A plan with its estimates. Times are expected time to first token, in milliseconds.</summary>
/// <param name="Decision">Recompute, Fetch or Split.</param>
/// <param name="Fetches">What to fetch from where, in block order (empty for Recompute).</param>
/// <param name="FetchBlocks">Blocks fetched (the leading blocks of the prompt).</param>
/// <param name="FetchTokens">Tokens those blocks hold.</param>
/// <param name="RecomputeTokens">Tokens the engine prefills.</param>
/// <param name="FetchMs">The chosen plan's fetch stream alone: the base of its deadline.</param>
/// <param name="ChosenTtftMs">The chosen plan's TTFT.</param>
/// <param name="FetchAllTtftMs">TTFT when fetching the whole reachable prefix (infinity when none is reachable).</param>
/// <param name="RecomputeAllTtftMs">TTFT when recomputing everything.</param>
/// <param name="Reason">A short human reason.</param>
public sealed record Plan(
    PlanDecision Decision,
    IReadOnlyList<FetchAssignment> Fetches,
    int FetchBlocks,
    int FetchTokens,
    int RecomputeTokens,
    double FetchMs,
    double ChosenTtftMs,
    double FetchAllTtftMs,
    double RecomputeAllTtftMs,
    string Reason)
{
    /// <summary>How much sooner the first token comes than recomputing everything.</summary>
    public double SavingMs => RecomputeAllTtftMs - ChosenTtftMs;
}
