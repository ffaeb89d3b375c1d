namespace KvTier.EngineSim;

/// <summary>What one simulated request did.</summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="VramBlocks">Leading blocks found in the engine's own pool.</param>
/// <param name="OnloadedBlocks">Leading blocks onloaded from KvTier.</param>
/// <param name="ComputedTokens">Tokens prefilled.</param>
/// <param name="OffloadedBlocks">Blocks offloaded to KvTier when evicted from the pool.</param>
/// <param name="Ttft">Lookup + onload + prefill of the rest.</param>
/// <param name="VerifiedBlocks">Onloaded blocks recomputed and compared bit for bit (0 without --verify).</param>
/// <param name="MismatchedBlocks">Onloaded blocks that differed from the recomputation.</param>
/// <param name="Decision">The sidecar's plan for the part not in the engine's pool: fetch, split, recompute (none: all in the pool).</param>
public sealed record EngineRequestResult(
    int PromptTokens, int VramBlocks, int OnloadedBlocks, int ComputedTokens, int OffloadedBlocks, TimeSpan Ttft,
    int VerifiedBlocks, int MismatchedBlocks, string Decision);
