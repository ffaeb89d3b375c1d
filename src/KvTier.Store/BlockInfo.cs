namespace KvTier.Store;

/// <summary>What a block's header says, plus where it was found.</summary>
/// <param name="PayloadLength">Payload bytes.</param>
/// <param name="PayloadChecksum">XxHash3 of the payload.</param>
/// <param name="GeometryFingerprint">Fingerprint of the geometry it was written under (0 = unspecified).</param>
/// <param name="CreatedUnixMs">When it was stored.</param>
/// <param name="ExpiresUnixMs">When it expires (0 = never).</param>
/// <param name="Tier">Where it was found.</param>
public readonly record struct BlockInfo(
    long PayloadLength, ulong PayloadChecksum, ulong GeometryFingerprint, long CreatedUnixMs, long ExpiresUnixMs, StorageTier Tier);

/// <summary>Where a block lives.</summary>
public enum StorageTier
{
    /// <summary>Not present.</summary>
    None,
    /// <summary>In the in-memory part of the log.</summary>
    Dram,
    /// <summary>On the SSD spill device (read back on access).</summary>
    Ssd,
}
