using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class CostModelTests
{
    [Fact]
    public void Fetch_cost_counts_the_geometry_bytes_of_each_block()
    {
        var f = new Fixture(Fixture.H100);

        // 64 blocks × 2 MiB from DRAM at 8 GB/s + 0.3 ms setup.
        Assert.Equal(0.3 + (64.0 * (2 << 20) / 8e9 * 1e3), f.Cost.FetchMs(FetchSource.LocalDram, 64), 9);
        Assert.Equal(Fixture.H100.RecomputeMs(100, 1000), f.Cost.RecomputeMs(100, 1000), 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Cost.FetchMs(FetchSource.LocalDram, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Cost.RecomputeMs(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Cost.RecomputeMs(1, -1));
    }

    [Fact]
    public void Observations_in_blocks_and_prefills_reach_the_link_and_prefill_models()
    {
        var f = new Fixture(Fixture.H100);

        f.Cost.ObserveFetch(Fixture.PeerA, 8, TimeSpan.FromMilliseconds(40));
        f.Cost.ObservePrefill(1000, 0, TimeSpan.FromMilliseconds(80));

        Assert.Equal(1, f.Links.Estimate(Fixture.PeerA).Observations);
        Assert.Equal(1, f.Prefill.Observations);
        Assert.True(f.Cost.RecomputeMs(1000, 0) > Fixture.H100.RecomputeMs(1000, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Cost.ObserveFetch(Fixture.PeerA, 0, TimeSpan.FromMilliseconds(1)));
    }

    [Theory]
    [InlineData("llama-3.1-8b", "h100-sxm", "dram")]
    [InlineData("llama-3.1-8b", "h100-sxm", "peer")]
    [InlineData("llama-3.1-8b", "a100-sxm-80gb", "peer")]
    [InlineData("tiny", "cpu-2core", "peer")]
    public void Predicted_crossover_is_where_fetch_all_first_beats_recompute_all(string model, string device, string link)
    {
        var f = new Fixture(PrefillProfile.Get(model, device), geometry: ModelPreset.Get(model).Geometry);
        var source = link == "dram" ? FetchSource.LocalDram : Fixture.PeerA;

        var crossover = f.Cost.CrossoverTokens(source);

        Assert.NotNull(crossover);
        var p = crossover.Value;
        Assert.True(FetchAll(f, source, p) <= f.Cost.RecomputeMs(p, 0));
        Assert.True(FetchAll(f, source, p - 1) > f.Cost.RecomputeMs(p - 1, 0));
    }

    [Fact]
    public void Crossover_matches_the_closed_form_root()
    {
        // Attention-free device, 1 ms fixed fetch cost: fetch wins once a·P > 1 ms + s·P + a, i.e. P > (1 + a)/(a − s).
        var f = new Fixture(Fixture.Profile(0, 0.01, 0), geometry: Fixture.Llama8b);
        f.Links.SetPrior(Fixture.PeerA, new LinkPrior(TimeSpan.Zero, TimeSpan.FromMilliseconds(1), 131072 / 0.005 * 1e3));

        // s = 0.005 ms per 128 KiB token: root = 1.01 / 0.005 = 202.
        Assert.Equal(202, f.Cost.CrossoverTokens(Fixture.PeerA));
    }

    [Fact]
    public void The_planner_fetches_above_the_predicted_crossover_and_recomputes_below()
    {
        // H100 with a 3 GB/s peer: per token the link is slower than the matmuls, so fetching wins only once the
        // attention term has grown, near 12.7K tokens. Without overlap a split never wins (TTFT is concave in the
        // split point), so the planner flips from Recompute to Fetch right at the crossover.
        var f = new Fixture(Fixture.H100, new PolicyOptions { MinFetchTokens = 0, MinSavingMs = 0 });
        f.Links.SetPrior(Fixture.PeerA, new LinkPrior(TimeSpan.FromMilliseconds(0.2), TimeSpan.FromMilliseconds(0.5), 3e9));
        var crossover = f.Cost.CrossoverTokens(Fixture.PeerA)!.Value;
        Assert.InRange(crossover, 11_000, 14_000);

        var below = f.Planner.Choose(Fixture.AllCached((crossover / 16) - 1, Fixture.PeerA));
        var above = f.Planner.Choose(Fixture.AllCached((crossover / 16) + 1, Fixture.PeerA));

        Assert.Equal(PlanDecision.Recompute, below.Decision);
        Assert.Equal(PlanDecision.Fetch, above.Decision);
    }

    [Fact]
    public void There_is_no_crossover_when_fetching_never_wins_or_the_source_is_down()
    {
        // No attention term and re-prefill cheaper per token than the link: recompute wins at every length.
        var f = new Fixture(Fixture.Profile(1, 0.0001, 0));
        Assert.Null(f.Cost.CrossoverTokens(Fixture.PeerA));

        var h100 = new Fixture(Fixture.H100);
        h100.Links.MarkDown(Fixture.PeerB);
        Assert.Null(h100.Cost.CrossoverTokens(Fixture.PeerB));
        Assert.Throws<ArgumentOutOfRangeException>(() => h100.Cost.CrossoverTokens(Fixture.PeerA, 0));
    }

    private static double FetchAll(Fixture f, FetchSource source, int tokens) =>
        f.Links.FetchMs(source, (double)tokens * f.Cost.Geometry.BytesPerToken) + f.Cost.RecomputeMs(1, tokens);
}
