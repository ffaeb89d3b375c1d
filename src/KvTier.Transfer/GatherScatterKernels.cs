using ILGPU;
using ILGPU.Runtime;

namespace KvTier.Transfer;

/// <summary>Pool geometry as the kernels see it, in 4-byte words.</summary>
public readonly record struct KernelLayout(int WordsPerChunk, int Chunks, int NumBlocks, int Paged)
{
    /// <summary>The kernel view of a pool.</summary>
    public static KernelLayout Of(KvPoolSpec spec) => new(
        checked((int)(spec.ChunkBytes / 4)), spec.Chunks, spec.NumBlocks, spec.Layout == KvPoolLayout.VllmPaged ? 1 : 0);

    /// <summary>Words in one block.</summary>
    public long WordsPerBlock => (long)WordsPerChunk * Chunks;
}

/// <summary>
/// Gather (pool slots → contiguous staging blocks) and scatter (the reverse) as ILGPU kernels: one thread per 4-byte
/// word, one launch per batch of blocks. On a GPU they run on the device against the engine's pool; on this machine
/// they run on ILGPU's CPU accelerator in tests and must match <see cref="HostCopier"/> bit for bit.
/// </summary>
public static class GatherScatterKernels
{
    /// <summary>staging[b][w] = pool[word w of block slots[b]].</summary>
    public static void Gather(Index1D i, ArrayView<int> pool, ArrayView<int> staging, ArrayView<int> slots, KernelLayout layout)
    {
        var (block, word) = Split(i, layout);
        staging[i] = pool[PoolWord(layout, slots[block], word)];
    }

    /// <summary>pool[word w of block slots[b]] = staging[b][w].</summary>
    public static void Scatter(Index1D i, ArrayView<int> staging, ArrayView<int> pool, ArrayView<int> slots, KernelLayout layout)
    {
        var (block, word) = Split(i, layout);
        pool[PoolWord(layout, slots[block], word)] = staging[i];
    }

    private static (int Block, long Word) Split(Index1D i, KernelLayout layout)
    {
        var perBlock = layout.WordsPerBlock;
        return ((int)(i / perBlock), i % perBlock);
    }

    private static long PoolWord(KernelLayout layout, int slot, long word)
    {
        if (layout.Paged == 0)
        {
            return slot * layout.WordsPerBlock + word;
        }

        var chunk = (int)(word / layout.WordsPerChunk);
        var offset = word % layout.WordsPerChunk;
        // vLLM: per layer [2][num_blocks][chunk]; chunk = layer * 2 + kv.
        return ((chunk >> 1) * 2L * layout.NumBlocks + (chunk & 1) * (long)layout.NumBlocks + slot) * layout.WordsPerChunk + offset;
    }
}

/// <summary>The kernels loaded on one accelerator.</summary>
public sealed class KernelCopier
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, KernelLayout> _gather;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, KernelLayout> _scatter;

    /// <summary>Compiles the kernels for <paramref name="accelerator"/>.</summary>
    public KernelCopier(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _gather = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, KernelLayout>(
            GatherScatterKernels.Gather);
        _scatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, KernelLayout>(
            GatherScatterKernels.Scatter);
    }

    /// <summary>Gathers the blocks at <paramref name="slots"/> into <paramref name="staging"/>, one launch.</summary>
    public void Gather(KvPoolSpec spec, ArrayView<int> pool, ArrayView<int> staging, ArrayView<int> slots)
    {
        var layout = KernelLayout.Of(spec);
        _gather(Words(layout, slots), pool, staging, slots, layout);
        _accelerator.Synchronize();
    }

    /// <summary>Scatters staged blocks into the pool at <paramref name="slots"/>, one launch.</summary>
    public void Scatter(KvPoolSpec spec, ArrayView<int> staging, ArrayView<int> pool, ArrayView<int> slots)
    {
        var layout = KernelLayout.Of(spec);
        _scatter(Words(layout, slots), staging, pool, slots, layout);
        _accelerator.Synchronize();
    }

    private static int Words(KernelLayout layout, ArrayView<int> slots) => checked((int)(slots.Length * layout.WordsPerBlock));
}
