namespace KvTier.Transfer;

/// <summary>How an engine's paged KV cache is laid out in memory.</summary>
public enum KvPoolLayout
{
    /// <summary>
    /// vLLM's paged layout: for each layer one tensor <c>[2][num_blocks][block_tokens][kv_heads][head_dim]</c> (K then V),
    /// the layers one after another. A block is 2 × layers separate chunks.
    /// </summary>
    VllmPaged,

    /// <summary>
    /// Layer-major contiguous ("page-first"): <c>[num_blocks][layers][2][block_tokens][kv_heads][head_dim]</c>.
    /// A block is one contiguous run, already in KvTier's block format.
    /// </summary>
    LayerMajor,
}
