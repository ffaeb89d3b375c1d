using KvTier.Policy;
using KvTier.Store;

namespace KvTier.Bench.Tests;

public sealed class StoreTraceReplayTests
{
    // The first 1,000 and 3,000 requests of the Mooncake conversation trace: 20,527 and 52,317 distinct full blocks.
    private static readonly Lazy<ConversationTrace> First1000 = new(() => Head(1000));
    private static readonly Lazy<ConversationTrace> First3000 = new(() => Head(3000));

    [Fact]
    public void A_store_that_holds_every_block_hits_what_an_unlimited_cache_hits()
    {
        var store = StoreTraceReplay.Run(First1000.Value, 22_000, StoreRetention.KvTier);
        var unlimited = TraceReplay.Run(First1000.Value, new UnlimitedRetention(), offerPartialBlocks: false);

        Assert.Equal(unlimited.HitTokens, store.HitTokens);
        Assert.Equal(unlimited.HitBlocksPerRequest, store.HitBlocksPerRequest);
    }

    [Fact]
    public void At_a_small_capacity_the_judge_keeps_more_of_the_trace_than_fifo_does()
    {
        var kvtier = StoreTraceReplay.Run(First3000.Value, 2_000, StoreRetention.KvTier);
        var fifo = StoreTraceReplay.Run(First3000.Value, 2_000, StoreRetention.Fifo);

        // Deterministic: one thread, the same requests; the judge's copies are the only difference.
        Assert.True(kvtier.HitTokens > fifo.HitTokens, $"kvtier {kvtier.TokenHitRate:P2}, fifo {fifo.TokenHitRate:P2}");
        Assert.True(fifo.HitTokens > 0);
    }

    [Theory]
    [InlineData(2_000)]
    [InlineData(10_000)]
    public void The_store_is_never_given_more_room_than_the_capacity(int capacity)
    {
        var options = StoreTraceReplay.Sized(capacity, StoreRetention.KvTier);
        var layout = StoreLayout.For(options);
        var perPage = layout.RecordsPerPage(StoreTraceReplay.PayloadBytes);

        // Its window and the tail page being filled hold at most the capacity, and within two pages of it.
        Assert.InRange((layout.WindowPages + 1) * perPage, capacity - (2 * perPage), capacity);
    }

    private static ConversationTrace Head(int requests)
    {
        var path = ConversationTrace.FindDefault(AppContext.BaseDirectory)
            ?? throw new FileNotFoundException($"none of {string.Join(", ", ConversationTrace.DefaultLocations)} above {AppContext.BaseDirectory}");
        return ConversationTrace.Parse(new StringReader(string.Join('\n', File.ReadLines(path).Take(requests))), path);
    }
}
