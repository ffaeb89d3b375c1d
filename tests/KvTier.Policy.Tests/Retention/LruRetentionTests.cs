using KvTier.Policy;

namespace KvTier.Policy.Tests.Retention;

public sealed class LruRetentionTests
{
    [Fact]
    public void Evicts_the_least_recently_touched_block()
    {
        var lru = new LruRetention(3);
        lru.OnRequest([1], 0);
        lru.OnRequest([2], 0);
        lru.OnRequest([3], 0);
        lru.OnRequest([1], 1);
        lru.OnRequest([4], 0);

        Assert.True(lru.Contains(1));
        Assert.False(lru.Contains(2));
        Assert.True(lru.Contains(3));
        Assert.True(lru.Contains(4));
        Assert.Equal(3, lru.Count);
    }

    [Fact]
    public void Touches_a_request_in_prompt_order_so_its_root_goes_first()
    {
        var lru = new LruRetention(4);
        lru.OnRequest([1, 2, 3, 4, 5, 6], 0);

        Assert.Equal([false, false, true, true, true, true], new long[] { 1, 2, 3, 4, 5, 6 }.Select(lru.Contains));
    }

    [Fact]
    public void Rejects_a_hit_count_outside_the_request()
    {
        var lru = new LruRetention(4);

        Assert.Throws<ArgumentOutOfRangeException>(() => lru.OnRequest([1, 2], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => lru.OnRequest([1, 2], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LruRetention(0));
    }
}
