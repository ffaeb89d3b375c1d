namespace KvTier.Transfer;

/// <summary>
/// Gather and scatter between a host-accessible pool and staging with plain memory copies: the CPU path. (ILGPU's CPU
/// accelerator is an emulator; it runs the same kernels in tests only.)
/// </summary>
public static unsafe class HostCopier
{
    /// <summary>Copies block <paramref name="slot"/> of the pool into <paramref name="destination"/> in block format.</summary>
    public static void Gather(KvPoolSpec spec, byte* pool, int slot, Span<byte> destination)
    {
        spec.CheckSlot(slot);
        if (spec.Layout == KvPoolLayout.LayerMajor)
        {
            new ReadOnlySpan<byte>(pool + spec.ChunkOffset(slot, 0), checked((int)spec.BlockBytes)).CopyTo(destination);
            return;
        }

        var chunk = (int)spec.ChunkBytes;
        for (var c = 0; c < spec.Chunks; c++)
        {
            new ReadOnlySpan<byte>(pool + spec.ChunkOffset(slot, c), chunk).CopyTo(destination.Slice(c * chunk, chunk));
        }
    }

    /// <summary>Copies a block in block format into slot <paramref name="slot"/> of the pool.</summary>
    public static void Scatter(KvPoolSpec spec, ReadOnlySpan<byte> source, byte* pool, int slot)
    {
        spec.CheckSlot(slot);
        if (spec.Layout == KvPoolLayout.LayerMajor)
        {
            source[..checked((int)spec.BlockBytes)].CopyTo(new Span<byte>(pool + spec.ChunkOffset(slot, 0), (int)spec.BlockBytes));
            return;
        }

        var chunk = (int)spec.ChunkBytes;
        for (var c = 0; c < spec.Chunks; c++)
        {
            source.Slice(c * chunk, chunk).CopyTo(new Span<byte>(pool + spec.ChunkOffset(slot, c), chunk));
        }
    }
}
