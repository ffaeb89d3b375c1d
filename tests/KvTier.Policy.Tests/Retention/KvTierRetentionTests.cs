using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

public sealed class KvTierRetentionTests
{
    [Fact]
    public void Evicts_a_chain_from_its_tail_and_keeps_the_root()
    {
        var kvtier = new KvTierRetention(4);
        kvtier.OnRequest([1, 2, 3, 4, 5, 6], 0);

        // The first four blocks are still a leading run; LRU in prompt order keeps 3..6, which can never hit.
        Assert.Equal([true, true, true, true, false, false], new long[] { 1, 2, 3, 4, 5, 6 }.Select(kvtier.Contains));

        kvtier.OnRequest([1, 2, 3, 4, 7, 8], 4);
        Assert.True(kvtier.Contains(1));
        Assert.Equal(4, kvtier.Count);
    }

    [Fact]
    public void A_block_hit_once_survives_a_one_off_scan_that_lru_lets_evict_it()
    {
        var kvtier = new KvTierRetention(4);
        var lru = new LruRetention(4);
        var next = 1000L;

        // Teach both the workload: requests of four fresh blocks that never come back.
        for (var i = 0; i < 50; i++)
        {
            long[] oneOff = [next++, next++, next++, next++];
            kvtier.OnRequest(oneOff, 0);
            lru.OnRequest(oneOff, 0);
        }

        foreach (var policy in new IBlockRetention[] { kvtier, lru })
        {
            policy.OnRequest([10], 0);
            policy.OnRequest([10], 1);
            policy.OnRequest([20, 21, 22, 23], 0);
        }

        Assert.True(kvtier.Contains(10));
        Assert.False(lru.Contains(10));
    }

    [Fact]
    public void A_block_back_from_the_ghost_list_keeps_its_access_count()
    {
        var kvtier = new KvTierRetention(2);
        kvtier.OnRequest([1], 0);
        kvtier.OnRequest([1], 1);
        Assert.Equal(RetentionClasses.Seen(1), kvtier.ClassOf(1));
        kvtier.OnRequest([2, 3], 0);
        Assert.Null(kvtier.ClassOf(1));

        kvtier.OnRequest([1], 0);

        // Its third access, though the KV was recomputed: it is classed with blocks seen twice before.
        Assert.Equal(RetentionClasses.Seen(2), kvtier.ClassOf(1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void Never_holds_more_than_its_capacity_under_random_requests(int capacity)
    {
        var random = new Random(20250101 + capacity);
        IBlockRetention[] policies = [new KvTierRetention(capacity), new LruRetention(capacity), new KvTierRetention(capacity, new() { GhostRatio = 0 })];
        var chains = new List<long[]>();
        long fresh = 1;
        for (var r = 0; r < 3000; r++)
        {
            // Half the requests extend an earlier chain (a conversation turn), half start a new one.
            var prefix = chains.Count > 0 && random.Next(2) == 0 ? chains[random.Next(chains.Count)] : [];
            var keep = random.Next(prefix.Length + 1);
            var ids = prefix.Take(keep).Concat(Enumerable.Range(0, random.Next(1, 20)).Select(_ => fresh++)).ToArray();
            chains.Add(ids);
            foreach (var policy in policies)
            {
                var hit = 0;
                while (hit < ids.Length && policy.Contains(ids[hit]))
                {
                    hit++;
                }

                policy.OnRequest(ids, hit);
                Assert.InRange(policy.Count, 0, capacity);
            }
        }
    }

    [Fact]
    public void Rejects_bad_options()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvTierRetention(10, new() { GhostRatio = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvTierRetention(10, new() { PriorStrength = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvTierRetention(10, new() { PriorStrength = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvTierRetention(0));
    }
}
