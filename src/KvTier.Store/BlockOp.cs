using KvTier.Core;

namespace KvTier.Store;

/// <summary>What a FASTER callback is asked to do with a record.</summary>
internal enum BlockOp : byte
{
    /// <summary>Write header + payload from the input.</summary>
    Put,
    /// <summary>Allocate a filler record at start (touches log pages; carries no block).</summary>
    Fill,
    /// <summary>Verify and copy the payload to the caller's buffer.</summary>
    Read,
    /// <summary>Verify the header only.</summary>
    Peek,
    /// <summary>Rewrite the expiry (RMW).</summary>
    Touch,
    /// <summary>Verify the header and let FASTER copy the record to the tail (a tenant's block kept within its quota).</summary>
    Protect,
    /// <summary>As <see cref="Protect"/>, for a block the retention judge keeps.</summary>
    Retain,
    /// <summary>Verify the header and hand out where the record's bytes are (a lend, read in place under the epoch).</summary>
    Lend,
    /// <summary>Verify the header and let FASTER copy the record to the tail (the second chance a lent block gets).</summary>
    Renew,
}

/// <summary>Input of one store operation. Pointers are to memory the caller keeps pinned until the op completes.</summary>
internal unsafe struct BlockInput
{
    public BlockOp Op;
    public byte* Payload;
    public BlockHeader Header;
    public long NowUnixMs;
    public long NewExpiresUnixMs;
    public ulong ExpectedChecksum;
    public bool HasExpectedChecksum;

    /// <summary>A put whose payload <see cref="BlockFunctions.Source"/> writes into the record (Payload is unused).</summary>
    public bool FromSource;

    /// <summary>The tenant's id in the store's <see cref="TenantLedger"/> (-1: not known), for records this op writes.</summary>
    public int TenantId;

    /// <summary>Fault injection for tests: 1 + the payload offset to flip after checksumming (0 = none).</summary>
    public int FaultOffsetPlusOne;
}

/// <summary>Output of one store operation: where to copy, and what happened.</summary>
internal unsafe struct BlockOutput
{
    public byte* Destination;
    public long Capacity;
    public BlockStatus Status;
    public BlockHeader Header;
    public long Address;

    /// <summary>A lend's record (header + payload) in the log; valid only while the reader's epoch is held.</summary>
    public byte* Record;
}
