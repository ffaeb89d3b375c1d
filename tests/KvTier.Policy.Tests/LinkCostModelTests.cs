using KvTier.Policy;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Policy.Tests;

public sealed class LinkCostModelTests
{
    private static readonly FetchSource Peer = FetchSource.Peer("p1");

    [Fact]
    public void Unobserved_sources_cost_their_prior()
    {
        var links = new LinkCostModel(new FakeTimeProvider());

        Assert.Equal(LinkPrior.LocalDram.FetchMs(1e6), links.FetchMs(FetchSource.LocalDram, 1e6), 9);
        Assert.Equal(LinkPrior.LocalSsd.FetchMs(1e6), links.FetchMs(FetchSource.LocalSsd, 1e6), 9);
        Assert.Equal(LinkPrior.Peer.FetchMs(1e6), links.FetchMs(Peer, 1e6), 9);
        var estimate = links.Estimate(Peer);
        Assert.Equal(0, estimate.Observations);
        Assert.Equal(0, estimate.LearnedWeight);
        Assert.False(estimate.IsDown);
    }

    [Fact]
    public void Ewma_converges_to_observed_bandwidth_and_rtt()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        const double bandwidth = 3e9;
        var setupMs = LinkPrior.Peer.Setup.TotalMilliseconds;
        const double rttMs = 1.5;

        for (var i = 0; i < 100; i++)
        {
            long bytes = (1 + (i % 16)) * (4L << 20);
            links.ObserveFetch(Peer, bytes, TimeSpan.FromMilliseconds(setupMs + rttMs + (bytes / bandwidth * 1e3)));
        }

        var estimate = links.Estimate(Peer);
        Assert.Equal(bandwidth, estimate.BandwidthBytesPerSecond, bandwidth * 0.001);
        Assert.Equal(rttMs, estimate.Rtt.TotalMilliseconds, 0.01);
        Assert.Equal(setupMs, estimate.Setup.TotalMilliseconds, 1e-9);
        Assert.Equal(100, estimate.Observations);
        Assert.True(estimate.LearnedWeight > 0.999);
    }

    [Fact]
    public void Ewma_converges_under_noise()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        var random = new Random(7);
        for (var i = 0; i < 400; i++)
        {
            long bytes = (1 + (i % 16)) * (4L << 20);
            var ms = (2.0 + (bytes / 2e9 * 1e3)) * (0.95 + (0.1 * random.NextDouble()));
            links.ObserveFetch(Peer, bytes, TimeSpan.FromMilliseconds(ms));
        }

        var estimate = links.Estimate(Peer);
        Assert.InRange(estimate.BandwidthBytesPerSecond, 1.8e9, 2.2e9);
        Assert.InRange(estimate.Setup.TotalMilliseconds + estimate.Rtt.TotalMilliseconds, 0, 6);
    }

    [Fact]
    public void One_observation_moves_the_estimate_by_alpha_from_the_prior()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        const long bytes = 64L << 20;
        var prior = LinkPrior.Peer.FetchMs(bytes);
        var observed = prior * 10;

        links.ObserveFetch(Peer, bytes, TimeSpan.FromMilliseconds(observed));

        Assert.Equal(0.25, links.Estimate(Peer).LearnedWeight, 9);
        Assert.Equal((0.75 * prior) + (0.25 * observed), links.FetchMs(Peer, bytes), 3); // TimeSpan keeps 100 ns ticks
    }

    [Fact]
    public void Transfers_of_one_size_predict_that_size_exactly()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        const long bytes = 8L << 20;
        for (var i = 0; i < 60; i++)
        {
            links.ObserveFetch(Peer, bytes, TimeSpan.FromMilliseconds(20));
        }

        Assert.Equal(20, links.FetchMs(Peer, bytes), 3);
        Assert.True(links.FetchMs(Peer, 2 * bytes) > 20, "twice the bytes must cost more");
    }

    [Fact]
    public void A_fit_with_negative_intercept_goes_through_the_origin()
    {
        // Bigger transfers take disproportionately longer: the straight line would cross below zero.
        var links = new LinkCostModel(new FakeTimeProvider());
        for (var i = 0; i < 50; i++)
        {
            links.ObserveFetch(Peer, 1L << 20, TimeSpan.FromMilliseconds(0.1));
            links.ObserveFetch(Peer, 10L << 20, TimeSpan.FromMilliseconds(10));
        }

        var estimate = links.Estimate(Peer);
        Assert.True(estimate.Setup + estimate.Rtt < TimeSpan.FromMilliseconds(0.01));
        Assert.InRange(estimate.BandwidthBytesPerSecond, 1e9, 1.2e9);
    }

    [Fact]
    public void Shrinking_times_for_bigger_transfers_fall_back_to_the_prior_split()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        for (var i = 0; i < 50; i++)
        {
            links.ObserveFetch(Peer, 1L << 20, TimeSpan.FromMilliseconds(10));
            links.ObserveFetch(Peer, 10L << 20, TimeSpan.FromMilliseconds(5));
        }

        // No line with a positive slope fits; the estimate still lies between what was seen, and grows with size.
        var estimate = links.Estimate(Peer);
        Assert.InRange(estimate.FetchMs(5.5 * (1 << 20)), 5, 10);
        Assert.True(estimate.FetchMs(20 << 20) > estimate.FetchMs(1 << 20));
    }

    [Fact]
    public void A_zero_elapsed_transfer_does_not_make_bandwidth_infinite()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        for (var i = 0; i < 30; i++)
        {
            links.ObserveFetch(FetchSource.LocalDram, 4096, TimeSpan.Zero);
        }

        Assert.True(double.IsFinite(links.Estimate(FetchSource.LocalDram).BandwidthBytesPerSecond));
    }

    [Fact]
    public void A_stale_source_decays_toward_its_prior()
    {
        var time = new FakeTimeProvider();
        var links = new LinkCostModel(time, new LinkModelOptions { StaleAfter = TimeSpan.FromSeconds(30), StaleHalfLife = TimeSpan.FromSeconds(60) });
        for (var i = 0; i < 60; i++)
        {
            links.ObserveFetch(Peer, (1 + (i % 8)) << 20, TimeSpan.FromMilliseconds(50));
        }

        var learned = links.Estimate(Peer).LearnedWeight;
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(learned, links.Estimate(Peer).LearnedWeight, 9);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(learned / 2, links.Estimate(Peer).LearnedWeight, 6);

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(LinkPrior.Peer.FetchMs(4 << 20), links.FetchMs(Peer, 4 << 20), 3);

        links.ObserveFetch(Peer, 4 << 20, TimeSpan.FromMilliseconds(50));
        Assert.True(links.Estimate(Peer).LearnedWeight > 0.99, "a new observation makes the source fresh again");
    }

    [Fact]
    public void A_source_marked_down_costs_infinity_until_marked_up()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        links.ObserveFetch(Peer, 1 << 20, TimeSpan.FromMilliseconds(1));

        links.MarkDown(Peer);
        Assert.True(links.IsDown(Peer));
        Assert.True(double.IsPositiveInfinity(links.FetchMs(Peer, 1 << 20)));
        Assert.False(links.IsDown(FetchSource.Peer("never-seen")));

        links.MarkUp(Peer);
        Assert.False(links.IsDown(Peer));
        Assert.True(double.IsFinite(links.FetchMs(Peer, 1 << 20)));
    }

    [Fact]
    public void A_per_source_prior_overrides_the_kind_default()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        var fast = new LinkPrior(TimeSpan.Zero, TimeSpan.FromMilliseconds(0.1), 12.5e9);

        links.SetPrior(Peer, fast);

        Assert.Equal(fast.FetchMs(1e9), links.FetchMs(Peer, 1e9), 9);
        Assert.Equal(LinkPrior.Peer.FetchMs(1e9), links.FetchMs(FetchSource.Peer("other"), 1e9), 9);
    }

    [Fact]
    public void Bad_observations_and_options_are_refused()
    {
        var links = new LinkCostModel(new FakeTimeProvider());
        Assert.Throws<ArgumentOutOfRangeException>(() => links.ObserveFetch(Peer, 0, TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => links.ObserveFetch(Peer, 1, TimeSpan.FromMilliseconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinkCostModel(new FakeTimeProvider(), new LinkModelOptions { Alpha = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinkCostModel(new FakeTimeProvider(), new LinkModelOptions { StaleAfter = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinkCostModel(new FakeTimeProvider(), new LinkModelOptions { StaleHalfLife = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinkCostModel(
            new FakeTimeProvider(), new LinkModelOptions { PeerPrior = new LinkPrior(TimeSpan.Zero, TimeSpan.Zero, 0) }));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => links.SetPrior(
            Peer, new LinkPrior(TimeSpan.FromMilliseconds(-1), TimeSpan.Zero, 1e9)));
        Assert.Contains("must not be negative", negative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sources_print_as_plans_show_them()
    {
        Assert.Equal("dram", FetchSource.LocalDram.ToString());
        Assert.Equal("ssd", FetchSource.LocalSsd.ToString());
        Assert.Equal("peer:n7", FetchSource.Peer("n7").ToString());
        Assert.Equal(FetchSource.Peer("n7"), FetchSource.Peer("n7"));
        Assert.Throws<ArgumentException>(() => FetchSource.Peer(" "));
    }
}
