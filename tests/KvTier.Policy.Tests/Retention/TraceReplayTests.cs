using KvTier.Policy;
using Xunit.Abstractions;

namespace KvTier.Policy.Tests.Retention;

/// <summary>Replays of the real Mooncake conversation trace (shared/traces; present in CI too).</summary>
public sealed class TraceReplayTests(ITestOutputHelper output)
{
    private static ConversationTrace Trace => TraceFile.Conversation;

    [Fact]
    public void The_trace_loads_whole()
    {
        Assert.Equal(12_031, Trace.Requests.Count);
    }

    [Fact]
    public void Unlimited_cache_reaches_the_traces_ceiling_of_37_4_percent()
    {
        var result = TraceReplay.Run(Trace, new UnlimitedRetention());

        Assert.InRange(result.TokenHitRate, 0.373, 0.375);
    }

    [Theory]
    [InlineData(10_000, 0.2153)]
    [InlineData(50_000, 0.3615)]
    public void Lru_on_every_block_reproduces_the_reference_baseline(int capacity, double expected)
    {
        var result = TraceReplay.Run(Trace, new LruRetention(capacity), offerPartialBlocks: true);

        Assert.InRange(result.TokenHitRate, expected - 0.001, expected + 0.001);
    }

    [Theory]
    [InlineData(2_500)]
    [InlineData(5_000)]
    [InlineData(10_000)]
    [InlineData(20_000)]
    [InlineData(50_000)]
    public void KvTier_never_falls_below_lru(int capacity)
    {
        var lru = TraceReplay.Run(Trace, new LruRetention(capacity), offerPartialBlocks: true);
        var kvtier = TraceReplay.Run(Trace, new KvTierRetention(capacity));
        output.WriteLine($"capacity {capacity}: lru {lru.TokenHitRate:P2}, kvtier {kvtier.TokenHitRate:P2} ({kvtier.TokenHitRate / lru.TokenHitRate:F3}x)");

        Assert.True(kvtier.TokenHitRate >= lru.TokenHitRate, $"kvtier {kvtier.TokenHitRate:P2} < lru {lru.TokenHitRate:P2}");
    }

    [Fact]
    public void Reports_each_requests_hit_prefix_and_progress_to_completion()
    {
        var reports = new List<double>();
        var result = TraceReplay.Run(Trace, new LruRetention(10_000), progress: new SyncProgress(reports));

        Assert.Equal(Trace.Requests.Count, result.HitBlocksPerRequest.Count);
        Assert.Equal(result.HitBlocks, result.HitBlocksPerRequest.Sum(h => (long)h));
        Assert.Equal(Trace.Requests.Sum(r => (long)r.InputLength), result.PromptTokens);
        Assert.All(result.HitBlocksPerRequest.Zip(Trace.Requests), p => Assert.InRange(p.First, 0, p.Second.HashIds.Length));
        Assert.Equal(1.0, reports[^1]);
        Assert.True(reports.Count >= 100);
        Assert.Equal(reports.Order(), reports);
    }

    // Progress<T> posts to the thread pool; the test wants every report, in order, before Run returns.
    private sealed class SyncProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value) => reports.Add(value);
    }
}
