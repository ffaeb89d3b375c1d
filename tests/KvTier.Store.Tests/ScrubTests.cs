using KvTier.Core;

namespace KvTier.Store.Tests;

/// <summary>The background scrub: checksums of blocks nobody reads are verified too, and damage is dropped.</summary>
public sealed class ScrubTests
{
    private const int BlockBytes = 100_000;

    [Fact]
    public void A_scrub_drops_a_rotted_block_nobody_read_and_keeps_the_intact_ones()
    {
        using var store = new BlockStore(Blocks.Small());
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(BlockStatus.Ok, i == 4
                ? store.PutWithFault(Blocks.Tenant, Blocks.Key(i), Blocks.Payload(i, BlockBytes), flipOffset: 5000)
                : store.Put(Blocks.Tenant, Blocks.Key(i), Blocks.Payload(i, BlockBytes)));
        }

        Assert.Equal(10L * BlockBytes, store.Scrub(long.MaxValue));

        Assert.Equal(1, store.GetStats().Corruptions);
        Assert.False(Blocks.Has(store, Blocks.Key(4)));
        Assert.All(Enumerable.Range(0, 10).Where(i => i != 4), i => Assert.True(Blocks.Has(store, Blocks.Key(i))));
    }

    [Fact]
    public void Scrubbing_goes_on_where_it_stopped_and_starts_over_after_the_newest_block()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put(Blocks.Tenant, Blocks.Key(0), Blocks.Payload(0, BlockBytes));
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, BlockBytes));
        store.PutWithFault(Blocks.Tenant, Blocks.Key(2), Blocks.Payload(2, BlockBytes), flipOffset: 7);

        // One block per call, oldest first: the damage in the third block is found by the third call.
        Assert.Equal(BlockBytes, store.Scrub(1));
        Assert.Equal(BlockBytes, store.Scrub(1));
        Assert.Equal(0, store.GetStats().Corruptions);
        Assert.Equal(BlockBytes, store.Scrub(1));
        Assert.Equal(1, store.GetStats().Corruptions);

        // Past the newest block it starts over at the first.
        Assert.Equal(BlockBytes, store.Scrub(1));
        Assert.Equal(BlockBytes, store.Scrub(long.MaxValue)); // the second block; the dropped third is gone
        Assert.Equal(1, store.GetStats().Corruptions);
    }

    [Fact]
    public void Damage_in_a_replaced_version_does_not_drop_the_current_one()
    {
        using var store = new BlockStore(Blocks.Small());
        store.PutWithFault(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, BlockBytes), flipOffset: 10);
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(2, BlockBytes));

        store.Scrub(long.MaxValue);

        Assert.Equal(0, store.GetStats().Corruptions);
        var buffer = new byte[BlockBytes];
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(1), buffer, out _));
        Assert.Equal(Blocks.Payload(2, BlockBytes), buffer);
    }
}
