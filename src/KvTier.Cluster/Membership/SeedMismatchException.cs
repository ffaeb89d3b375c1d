namespace KvTier.Cluster.Membership;

/// <summary>
/// This node's hash seed differs from the cluster's: it would compute other keys for the same tokens and silently
/// never hit (the most reported failure of shared KV caches), so it refuses to join.
/// </summary>
public sealed class SeedMismatchException(string nodeId, string theirs, string ours)
    : Exception($"refusing to join: node '{nodeId}' has hash-seed fingerprint {theirs} but this node has {ours}; "
        + "every node must run with the same --hash-seed (vLLM's PYTHONHASHSEED), or blocks never hit")
{
    /// <summary>The member whose seed differs.</summary>
    public string NodeId { get; } = nodeId;
}
