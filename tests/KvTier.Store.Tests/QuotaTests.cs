using KvTier.Core;

namespace KvTier.Store.Tests;

/// <summary>Per-tenant DRAM quotas: a noisy neighbour's burst must not evict a tenant that stays within its share.</summary>
public sealed class QuotaTests
{
    private const int BlockBytes = 200 << 10;
    private const string Quiet = "tenant-a";
    private const string Noisy = "tenant-b";

    [Fact]
    public void A_tenant_within_its_quota_keeps_its_hot_set_while_another_bursts_far_beyond_its_own()
    {
        var options = Options(new() { [Quiet] = 4L << 20, [Noisy] = 4L << 20 });
        var layout = StoreLayout.For(options);
        using var store = new BlockStore(options);
        var hot = Write(store, Quiet, count: 15, seed: 1); // 3 MiB, within A's 4 MiB
        var burst = (int)(10 * layout.WindowBytes / BlockBytes);

        var noisy = Write(store, Noisy, burst, seed: 2);

        Assert.All(hot, i => AssertReadable(store, Quiet, i, seed: 1));
        Assert.False(Blocks.Has(store, Blocks.Key(0, seed: 2), Noisy), "the burst's oldest block is still there");
        Assert.True(Blocks.Has(store, Blocks.Key(noisy[^1], seed: 2), Noisy));
        var stats = store.GetStats();
        Assert.True(stats.QuotaCopies > 0);
        Assert.InRange(stats.AllocatedBytes, 0, layout.BudgetedBytesWithOverhead);
        var usage = store.GetTenantUsage().ToDictionary(u => u.Tenant);
        Assert.InRange(usage[Quiet].DramBytes, 15L * BlockBytes, 4L << 20);
    }

    [Fact]
    public void Without_quotas_the_same_burst_evicts_everyone_oldest_first()
    {
        var options = Options([]);
        var layout = StoreLayout.For(options);
        using var store = new BlockStore(options);
        var hot = Write(store, Quiet, count: 15, seed: 1);

        Write(store, Noisy, (int)(10 * layout.WindowBytes / BlockBytes), seed: 2);

        Assert.All(hot, i => Assert.False(Blocks.Has(store, Blocks.Key(i, seed: 1), Quiet)));
        Assert.Equal(0, store.GetStats().QuotaCopies);
    }

    [Fact]
    public void A_tenant_over_its_quota_loses_its_oldest_blocks_and_keeps_about_its_quota_of_newest_ones()
    {
        var options = Options(new() { [Quiet] = 2L << 20 });
        var layout = StoreLayout.For(options);
        using var store = new BlockStore(options);
        var mine = Write(store, Quiet, count: 30, seed: 1); // 6 MiB against a 2 MiB quota

        Write(store, Noisy, (int)(10 * layout.WindowBytes / BlockBytes), seed: 2); // a tenant without quota: plain FIFO

        var kept = mine.Where(i => Blocks.Has(store, Blocks.Key(i, seed: 1), Quiet)).ToArray();
        Assert.InRange(kept.Length, 5, 10); // 2 MiB of 200 KiB blocks, give or take a page of slack
        Assert.Equal(mine[^kept.Length..], kept); // the newest ones
        Assert.All(kept, i => AssertReadable(store, Quiet, i, seed: 1));
    }

    [Fact]
    public void A_default_quota_protects_every_tenant_and_rewrites_and_deletes_leave_its_count()
    {
        var options = Options([]);
        options.DefaultTenantQuotaBytes = 3L << 20;
        var layout = StoreLayout.For(options);
        using var store = new BlockStore(options);
        var hot = Write(store, Quiet, count: 10, seed: 1);
        Write(store, Quiet, count: 10, seed: 1); // the same blocks again: the old versions stop counting
        Assert.Equal(BlockStatus.Ok, store.Delete(Quiet, Blocks.Key(9, seed: 1)));

        Write(store, Noisy, (int)(10 * layout.WindowBytes / BlockBytes), seed: 2);

        Assert.All(hot[..9], i => AssertReadable(store, Quiet, i, seed: 1));
        Assert.False(Blocks.Has(store, Blocks.Key(9, seed: 1), Quiet));
        var usage = store.GetTenantUsage().ToDictionary(u => u.Tenant);
        Assert.InRange(usage[Quiet].DramBytes, 9L * BlockBytes, 9L * (BlockBytes + BlockHeader.Size));
        Assert.InRange(usage[Noisy].DramBytes, 1, layout.WindowBytes); // over its quota it may still use memory nobody else needs
    }

    [Fact]
    public void Quotas_that_reserve_nearly_all_memory_are_refused_with_the_fix()
    {
        var options = Options(new() { [Quiet] = 16L << 20, [Noisy] = 16L << 20 });

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("lower the quotas or raise --memory", e.Message, StringComparison.Ordinal);
    }

    private static StoreOptions Options(Dictionary<string, long> quotas)
    {
        var options = Blocks.Small(memory: 32L << 20, maxBlock: 256 << 10);
        options.TenantQuotas = quotas;
        return options;
    }

    private static int[] Write(BlockStore store, string tenant, int count, int seed)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(BlockStatus.Ok, store.Put(tenant, Blocks.Key(i, seed), Blocks.Payload(i, BlockBytes, seed)));
        }

        return [.. Enumerable.Range(0, count)];
    }

    private static void AssertReadable(BlockStore store, string tenant, int i, int seed)
    {
        var buffer = new byte[BlockBytes];
        Assert.True(store.Get(tenant, Blocks.Key(i, seed), buffer, out _) == BlockStatus.Ok, $"block {i} of {tenant} is gone");
        Assert.Equal(Blocks.Payload(i, BlockBytes, seed), buffer);
    }
}
