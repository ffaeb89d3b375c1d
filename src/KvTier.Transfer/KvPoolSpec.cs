using KvTier.Core;

namespace KvTier.Transfer;

/// <summary>
/// An engine's KV pool: geometry, layout and size. A block in staging (and in the store) is always
/// <c>[layer][K then V][token][kv_head][head_dim]</c>, whatever the pool's layout.
/// </summary>
public sealed record KvPoolSpec
{
    /// <summary>Describes a pool and checks that it can be moved in 4-byte words.</summary>
    public KvPoolSpec(ModelGeometry geometry, KvPoolLayout layout, int numBlocks)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (numBlocks <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numBlocks), numBlocks, "a pool has at least one block.");
        }

        if (geometry.BlockTokens * geometry.BytesPerTokenPerLayerHalf % 4 != 0)
        {
            throw new ArgumentException(
                $"a K or V chunk of {geometry} is not a multiple of 4 bytes; kernels move 4-byte words.", nameof(geometry));
        }

        Geometry = geometry;
        Layout = layout;
        NumBlocks = numBlocks;
    }

    /// <summary>Model geometry.</summary>
    public ModelGeometry Geometry { get; }

    /// <summary>Memory layout.</summary>
    public KvPoolLayout Layout { get; }

    /// <summary>Blocks (slots) in the pool.</summary>
    public int NumBlocks { get; }

    /// <summary>Bytes of K (or V) of one layer for one block.</summary>
    public long ChunkBytes => Geometry.BlockTokens * Geometry.BytesPerTokenPerLayerHalf;

    /// <summary>Chunks per block: K and V of every layer.</summary>
    public int Chunks => 2 * Geometry.Layers;

    /// <summary>Bytes of one block.</summary>
    public long BlockBytes => Chunks * ChunkBytes;

    /// <summary>Bytes of the whole pool.</summary>
    public long PoolBytes => NumBlocks * BlockBytes;

    /// <summary>Offset in the pool of chunk <paramref name="chunk"/> (= layer × 2 + kv) of block <paramref name="slot"/>.</summary>
    public long ChunkOffset(int slot, int chunk) => Layout switch
    {
        KvPoolLayout.VllmPaged => ((chunk >> 1) * 2L * NumBlocks + (chunk & 1) * (long)NumBlocks + slot) * ChunkBytes,
        KvPoolLayout.LayerMajor => slot * BlockBytes + chunk * ChunkBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(Layout), Layout, "unknown layout"),
    };

    /// <summary>Throws when <paramref name="slot"/> is not a block of this pool.</summary>
    public void CheckSlot(int slot)
    {
        if ((uint)slot >= (uint)NumBlocks)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot must be in [0, {NumBlocks}).");
        }
    }
}
