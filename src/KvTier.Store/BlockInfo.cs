using KvTier.Core;

namespace KvTier.Store;

/// <summary>What a block's header says, plus where it was found.</summary>
/// <param name="PayloadLength">Payload bytes.</param>
/// <param name="PayloadChecksum">XxHash3 of the payload.</param>
/// <param name="GeometryFingerprint">Fingerprint of the geometry it was written under (0 = unspecified).</param>
/// <param name="CreatedUnixMs">When it was stored.</param>
/// <param name="ExpiresUnixMs">When it expires (0 = never).</param>
/// <param name="Tier">Where it was found.</param>
public readonly record struct BlockInfo(
    long PayloadLength, ulong PayloadChecksum, ulong GeometryFingerprint, long CreatedUnixMs, long ExpiresUnixMs, StorageTier Tier)
{
    /// <summary>What <paramref name="header"/> says, found in <paramref name="tier"/>.</summary>
    public static BlockInfo Of(in BlockHeader header, StorageTier tier) =>
        new(header.PayloadLength, header.PayloadChecksum, header.GeometryFingerprint, header.CreatedUnixMs, header.ExpiresUnixMs, tier);

    /// <summary>The header that travels with the block (to a peer, or back into a store).</summary>
    public BlockHeader Header => new(GeometryFingerprint, PayloadLength, PayloadChecksum, CreatedUnixMs, ExpiresUnixMs);
}

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
