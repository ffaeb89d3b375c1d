namespace KvTier.Store;

/// <summary>Store counters. Bytes are log bytes (header and record overhead included) unless named payload.</summary>
public sealed record StoreStats
{
    /// <summary>Blocks whose records are in DRAM (including superseded versions not yet evicted).</summary>
    public long DramBlocks { get; init; }

    /// <summary>Log bytes in DRAM.</summary>
    public long DramBytes { get; init; }

    /// <summary>Blocks on the SSD spill device.</summary>
    public long SsdBlocks { get; init; }

    /// <summary>Log bytes on the SSD spill device.</summary>
    public long SsdBytes { get; init; }

    /// <summary>The configured memory budget.</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>Bytes the store has allocated for log pages and the hash index.</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Log page size.</summary>
    public long PageBytes { get; init; }

    /// <summary>Gets that returned a block.</summary>
    public long Hits { get; init; }

    /// <summary>Gets and lookups that found nothing.</summary>
    public long Misses { get; init; }

    /// <summary>Blocks stored.</summary>
    public long Puts { get; init; }

    /// <summary>Payload bytes stored.</summary>
    public long PutPayloadBytes { get; init; }

    /// <summary>Payload bytes returned.</summary>
    public long GetPayloadBytes { get; init; }

    /// <summary>Blocks dropped because memory (and SSD) was full.</summary>
    public long EvictionsCapacity { get; init; }

    /// <summary>Blocks dropped because their TTL passed.</summary>
    public long EvictionsTtl { get; init; }

    /// <summary>Blocks deleted on request.</summary>
    public long EvictionsDelete { get; init; }

    /// <summary>Records that failed verification (never returned).</summary>
    public long Corruptions { get; init; }

    /// <summary>Payload bytes the background scrub has verified (<see cref="IBlockStore.Scrub"/>).</summary>
    public long ScrubbedBytes { get; init; }

    /// <summary>Hot blocks copied from near the head back to the tail (second chance).</summary>
    public long SecondChanceCopies { get; init; }

    /// <summary>Blocks of tenants within their DRAM quota copied from near the head back to the tail (kept in memory).</summary>
    public long QuotaCopies { get; init; }

    /// <summary>Blocks KvTier's retention judged worth another trip through the log, copied from near the head to the tail.</summary>
    public long RetentionCopies { get; init; }
}
