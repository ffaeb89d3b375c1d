namespace KvTier.Store;

/// <summary>How a store chooses the blocks that stay in DRAM as its log's head moves on.</summary>
public enum StoreRetention
{
    /// <summary>
    /// KvTier's learned retention (<see cref="KvTier.Policy.RetentionJudge"/>): before the head passes a block, a block
    /// whose reuse class and recent touches say it is worth another trip through the log is copied to the tail.
    /// </summary>
    KvTier,

    /// <summary>Blocks leave in the order they were written; a read near the head gives a block a second chance.</summary>
    Fifo,
}
