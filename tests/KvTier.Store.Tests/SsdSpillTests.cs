using KvTier.Core;

namespace KvTier.Store.Tests;

public sealed class SsdSpillTests : IDisposable
{
    private const int BlockBytes = 200 << 10;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvtier-ssd-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Blocks_that_leave_memory_are_read_back_from_the_ssd_verified()
    {
        var options = new StoreOptions { MemoryBytes = 16L << 20, MaxBlockBytes = 256 << 10, SsdDirectory = _dir, SsdBytes = 256L << 20 };
        using var store = new BlockStore(options);
        const int blocks = 200; // ~40 MiB: well past the 16 MiB of memory
        for (var i = 0; i < blocks; i++)
        {
            Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, Blocks.Key(i), Blocks.Payload(i, BlockBytes)));
        }

        var buffer = new byte[BlockBytes];
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(0), buffer, out var info));
        Assert.Equal(StorageTier.Ssd, info.Tier);
        Assert.Equal(Blocks.Payload(0, BlockBytes), buffer);
        Assert.Equal(blocks, store.LookupPrefix(Blocks.Tenant, Enumerable.Range(0, blocks).Select(i => Blocks.Key(i)).ToArray(), default));

        var stats = store.GetStats();
        Assert.True(stats.SsdBlocks > 0 && stats.SsdBytes > 0, stats.ToString());
        Assert.Equal(0, stats.EvictionsCapacity);
    }

    [Fact]
    public void When_the_ssd_budget_is_spent_the_oldest_blocks_are_dropped_and_counted()
    {
        var options = new StoreOptions { MemoryBytes = 16L << 20, MaxBlockBytes = 256 << 10, SsdDirectory = _dir, SsdBytes = 8L << 20 };
        using var store = new BlockStore(options);
        const int blocks = 300; // ~60 MiB through 16 MiB of memory and 8 MiB of SSD
        for (var i = 0; i < blocks; i++)
        {
            store.Put(Blocks.Tenant, Blocks.Key(i), Blocks.Payload(i, BlockBytes));
        }

        var stats = store.GetStats();
        Assert.False(Blocks.Has(store, Blocks.Key(0)));
        Assert.True(Blocks.Has(store, Blocks.Key(blocks - 1)));
        Assert.True(stats.EvictionsCapacity > 0, stats.ToString());
        Assert.InRange(stats.SsdBytes, 1, options.SsdBytes);
    }

    [Fact]
    public void A_second_store_on_the_same_ssd_directory_is_refused_until_the_first_is_disposed()
    {
        var options = new StoreOptions { MemoryBytes = 16L << 20, MaxBlockBytes = 256 << 10, SsdDirectory = _dir, SsdBytes = 64L << 20 };
        var first = new BlockStore(options);
        Assert.Equal(BlockStatus.Ok, first.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, BlockBytes)));

        var ex = Assert.Throws<IOException>(() => new BlockStore(options));

        Assert.Contains($"--ssd-dir {_dir} is in use by another kvtier store", ex.Message, StringComparison.Ordinal);
        Assert.True(Blocks.Has(first, Blocks.Key(1)), "the refused store disturbed the first one");
        first.Dispose();
        using var next = new BlockStore(options); // a restarted sidecar takes the directory back
        Assert.Equal(BlockStatus.Ok, next.Put(Blocks.Tenant, Blocks.Key(2), Blocks.Payload(2, BlockBytes)));
    }

    [Fact]
    public void Ssd_settings_must_come_together()
    {
        var ex = Assert.Throws<ArgumentException>(() => new StoreOptions { SsdDirectory = _dir }.Validate());
        Assert.Contains("--ssd-size", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => new StoreOptions { SsdBytes = 1L << 30 }.Validate());
        Assert.Contains("--ssd-dir", ex.Message, StringComparison.Ordinal);
    }
}
