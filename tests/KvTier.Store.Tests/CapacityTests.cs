using KvTier.Core;

namespace KvTier.Store.Tests;

// Measures the whole process's heap: no other test may allocate meanwhile.
[Collection(MemoryMeasurement.Name)]
public sealed class CapacityTests
{
    private const int BlockBytes = 200 << 10;

    [Fact]
    public void Memory_stays_within_the_budget_under_10x_oversubscription()
    {
        var options = Blocks.Small(memory: 32L << 20, maxBlock: 256 << 10);
        var layout = StoreLayout.For(options);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var store = new BlockStore(options);
        var payload = Blocks.Payload(0, BlockBytes);
        var blocks = (int)(10 * options.MemoryBytes / BlockBytes);

        for (var i = 0; i < blocks; i++)
        {
            Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, Blocks.Key(i), payload));
        }

        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;
        var stats = store.GetStats();

        // The managed heap grew by what FASTER allocated: within the budget plus the documented overhead (its
        // overflow pool of recycled pages), with 2 MiB for sessions, epochs and the test itself.
        Assert.True(layout.BudgetedBytes <= options.MemoryBytes, $"{layout} exceeds the budget");
        Assert.InRange(grown, options.MemoryBytes / 2, layout.BudgetedBytesWithOverhead + (2L << 20));
        Assert.InRange(stats.AllocatedBytes, 0, layout.BudgetedBytesWithOverhead);
        Assert.True(stats.EvictionsCapacity > blocks / 2, $"evicted {stats.EvictionsCapacity} of {blocks}");
        Assert.Equal(blocks - stats.EvictionsCapacity, stats.DramBlocks);
        Assert.True(stats.DramBytes <= layout.WindowBytes + layout.PageBytes, $"{stats.DramBytes} in DRAM");
        Assert.False(Blocks.Has(store, Blocks.Key(0)));
        Assert.True(Blocks.Has(store, Blocks.Key(blocks - 1)));
    }

    [Fact]
    public void The_oldest_blocks_go_first_but_blocks_that_are_read_stay()
    {
        var options = Blocks.Small(memory: 32L << 20, maxBlock: 256 << 10);
        using var store = new BlockStore(options);
        var payload = Blocks.Payload(0, BlockBytes);
        var buffer = new byte[BlockBytes];
        var hot = Enumerable.Range(0, 20).Select(i => i * 3).ToArray(); // every 3rd of the first 60 blocks
        var total = (int)(6 * options.MemoryBytes / BlockBytes);

        for (var i = 0; i < total; i++)
        {
            store.Put(Blocks.Tenant, Blocks.Key(i), payload);
            if (i >= 60 && i % 8 == 0)
            {
                // The engine keeps reading its hot prefix blocks while new blocks stream in.
                foreach (var h in hot)
                {
                    Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(h), buffer, out _));
                }
            }
        }

        Assert.All(hot, h => Assert.True(Blocks.Has(store, Blocks.Key(h)), $"hot block {h} was evicted"));
        var coldSurvivors = Enumerable.Range(0, 60).Except(hot).Count(i => Blocks.Has(store, Blocks.Key(i)));
        Assert.Equal(0, coldSurvivors);
        Assert.True(store.GetStats().SecondChanceCopies > 0);
    }

    [Fact]
    public void Pages_are_sized_for_the_largest_block_and_the_budget_must_hold_enough_of_them()
    {
        var layout = StoreLayout.For(new StoreOptions());
        Assert.Equal(128L << 20, layout.PageBytes); // a 64 MiB block plus its header needs a 128 MiB page
        Assert.True(layout.BudgetedBytes <= 1L << 30);

        // 2 MiB blocks (llama-3.1-8b) in a 2 GiB store: 32 MiB pages hold 15 of them, 6 % waste.
        var twoMiB = StoreLayout.For(new StoreOptions { MemoryBytes = 2L << 30, MaxBlockBytes = 2L << 20 });
        Assert.Equal(32L << 20, twoMiB.PageBytes);
        Assert.Equal(15, twoMiB.RecordsPerPage(2L << 20));
        Assert.InRange(twoMiB.PageWaste(2L << 20), 0.06, 0.07);

        var ex = Assert.Throws<ArgumentException>(() => new StoreOptions { MemoryBytes = 64L << 20, MaxBlockBytes = 64L << 20 }.Validate());
        Assert.Contains("--memory 64MiB", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--max-block", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chosen_page_size_is_used_when_it_holds_the_largest_block_and_refused_otherwise()
    {
        var small = StoreLayout.For(new StoreOptions { MemoryBytes = 2L << 30, MaxBlockBytes = 256 << 10, PageBytes = 1 << 20 });
        Assert.Equal(1L << 20, small.PageBytes);
        Assert.True(small.WindowPages > 1000, $"{small.WindowPages} pages of 1 MiB in a 2 GiB budget");

        foreach (var bad in new[] { 3L << 20, 512L << 10, 2L << 20 })
        {
            var ex = Assert.Throws<ArgumentException>(() => new StoreOptions { MaxBlockBytes = 4L << 20, PageBytes = bad }.Validate());
            Assert.Contains($"page size {bad}", ex.Message, StringComparison.Ordinal);
            Assert.Contains("8MiB", ex.Message, StringComparison.Ordinal); // the smallest page a 4 MiB block (plus header) fits
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "memory measurement";
}
