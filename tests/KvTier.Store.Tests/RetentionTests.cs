using KvTier.Core;

namespace KvTier.Store.Tests;

/// <summary>
/// KvTier's retention in the store: blocks an engine keeps finding with its lookups are copied forward before the head
/// passes them, while a stream of one-off blocks leaves oldest first; FIFO retention lets both go alike.
/// </summary>
public sealed class RetentionTests
{
    private const int BlockBytes = 64 << 10;

    [Fact]
    public void A_chain_an_engine_keeps_looking_up_stays_while_one_off_blocks_stream_through()
    {
        var (store, hot, oneOff) = Stream(StoreRetention.KvTier);
        using (store)
        {
            Assert.Equal(hot.Length, store.LookupPrefix(Blocks.Tenant, hot, []));
            Assert.False(Blocks.Has(store, oneOff[0]), "the oldest one-off block is still there");
            Assert.True(Blocks.Has(store, oneOff[^1]));
            var stats = store.GetStats();
            Assert.True(stats.RetentionCopies > 0);
            Assert.Equal(0, stats.QuotaCopies);
            Assert.Equal(0, stats.SecondChanceCopies); // lookups alone: no read gave a second chance
        }
    }

    [Fact]
    public void With_fifo_retention_lookups_alone_do_not_keep_a_chain()
    {
        var (store, hot, _) = Stream(StoreRetention.Fifo);
        using (store)
        {
            Assert.Equal(0, store.LookupPrefix(Blocks.Tenant, hot, []));
            Assert.Equal(0, store.GetStats().RetentionCopies);
        }
    }

    [Fact]
    public void Copies_forward_stay_within_the_memory_budget()
    {
        var (store, _, _) = Stream(StoreRetention.KvTier);
        using (store)
        {
            var stats = store.GetStats();
            Assert.True(stats.RetentionCopies > 0);
            Assert.InRange(stats.AllocatedBytes, 0, store.Layout.BudgetedBytesWithOverhead);
            Assert.True(stats.DramBytes <= store.Layout.WindowBytes + store.Layout.PageBytes, $"{stats.DramBytes} in DRAM");
        }
    }

    // Puts a 10-block chain, then streams four windows of one-off blocks, looking the chain up (as an engine's new
    // requests on the same prefix would) after every eighth put.
    private static (BlockStore Store, BlockKey[] Hot, BlockKey[] OneOff) Stream(StoreRetention retention)
    {
        var options = Blocks.Small(memory: 32L << 20, maxBlock: 256 << 10);
        options.Retention = retention;
        var store = new BlockStore(options);
        var hot = Enumerable.Range(0, 10).Select(i => Blocks.Key(i, seed: 1)).ToArray();
        Assert.Equal(0, store.LookupPrefix(Blocks.Tenant, hot, []));
        foreach (var key in hot)
        {
            Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, key, Blocks.Payload(0, BlockBytes, seed: 1)));
        }

        var oneOff = Enumerable.Range(0, (int)(4 * store.Layout.WindowBytes / BlockBytes)).Select(i => Blocks.Key(i, seed: 2)).ToArray();
        var payload = Blocks.Payload(0, BlockBytes, seed: 2);
        for (var i = 0; i < oneOff.Length; i++)
        {
            Assert.Equal(0, store.LookupPrefix(Blocks.Tenant, oneOff.AsSpan(i, 1), []));
            Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, oneOff[i], payload));
            if (i % 8 == 0)
            {
                store.LookupPrefix(Blocks.Tenant, hot, []);
            }
        }

        return (store, hot, oneOff);
    }
}
