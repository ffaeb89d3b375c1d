namespace KvTier.Core;

/// <summary>Outcome of a block operation on a hot path (a status, not an exception).</summary>
public enum BlockStatus
{
    /// <summary>Done; bytes (if any) are verified.</summary>
    Ok,
    /// <summary>No such block (never stored, evicted, deleted, or another tenant's).</summary>
    NotFound,
    /// <summary>Stored bytes failed their checksum; nothing was handed out.</summary>
    Corrupt,
    /// <summary>The block's TTL passed; treated as a miss.</summary>
    Expired,
    /// <summary>The caller's buffer is smaller than the block.</summary>
    BufferTooSmall,
    /// <summary>The block is larger than the configured maximum.</summary>
    TooLarge,
    /// <summary>The block was written under another model geometry.</summary>
    GeometryMismatch,
    /// <summary>The operation did not complete before its deadline; nothing was written.</summary>
    Timeout,
}
