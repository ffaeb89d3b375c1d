using KvTier.Core;

namespace KvTier.Client;

/// <summary>
/// A block arrived but failed its length or checksum check. Its bytes were not handed out: treat it as a miss
/// (recompute) and report it, since it means corruption on the node or in transit.
/// </summary>
public sealed class BlockIntegrityException : Exception
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public BlockIntegrityException(BlockKey key, string problem)
        : base($"block {key} arrived damaged: {problem}; its bytes were discarded: recompute the block.")
    {
        Key = key;
    }

    /// <summary>The block that failed.</summary>
    public BlockKey Key { get; }
}
