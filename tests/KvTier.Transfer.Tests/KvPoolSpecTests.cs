namespace KvTier.Transfer.Tests;

public sealed class KvPoolSpecTests
{
    [Theory]
    [InlineData(KvPoolLayout.VllmPaged)]
    [InlineData(KvPoolLayout.LayerMajor)]
    public void Every_chunk_of_every_slot_has_its_own_place_inside_the_pool(KvPoolLayout layout)
    {
        var spec = new KvPoolSpec(Pools.Small, layout, numBlocks: 5);
        var offsets = new HashSet<long>();
        for (var slot = 0; slot < spec.NumBlocks; slot++)
        {
            for (var c = 0; c < spec.Chunks; c++)
            {
                var offset = spec.ChunkOffset(slot, c);
                Assert.Equal(0, offset % spec.ChunkBytes);
                Assert.InRange(offset, 0, spec.PoolBytes - spec.ChunkBytes);
                Assert.True(offsets.Add(offset));
            }
        }

        Assert.Equal(spec.PoolBytes / spec.ChunkBytes, offsets.Count);
        Assert.Equal(Pools.Small.BytesPerBlock, spec.BlockBytes);
    }

    [Fact]
    public void The_vllm_layout_puts_each_layers_k_blocks_before_its_v_blocks()
    {
        var spec = new KvPoolSpec(Pools.Small, KvPoolLayout.VllmPaged, numBlocks: 5);
        // layer 1, V (chunk 3) of slot 2: past layer 0 (2 × 5 chunks) and layer 1's 5 K chunks, then 2 chunks in.
        Assert.Equal((10 + 5 + 2) * spec.ChunkBytes, spec.ChunkOffset(2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => spec.CheckSlot(5));
    }
}
