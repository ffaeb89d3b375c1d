using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class PlannerTests
{
    // A slow device: re-prefilling a 16-token block costs 8 ms, far more than fetching its 2 MiB from anywhere.
    private static readonly PrefillProfile SlowDevice = Fixture.Profile(2, 0.5, 1e-5);

    [Fact]
    public void Long_shared_prefix_in_fast_dram_is_fetched()
    {
        var f = new Fixture(Fixture.H100);

        var plan = f.Planner.Choose(Fixture.AllCached(512, FetchSource.LocalDram, tailTokens: 100));

        Assert.Equal(PlanDecision.Fetch, plan.Decision);
        Assert.Equal([new FetchAssignment(FetchSource.LocalDram, 0, 512)], plan.Fetches);
        Assert.Equal(512, plan.FetchBlocks);
        Assert.Equal(8192, plan.FetchTokens);
        Assert.Equal(100, plan.RecomputeTokens);
        Assert.Equal(plan.FetchAllTtftMs, plan.ChosenTtftMs);
        Assert.True(plan.RecomputeAllTtftMs > 2 * plan.ChosenTtftMs, plan.Reason);
        Assert.Equal(f.Cost.FetchMs(FetchSource.LocalDram, 512), plan.FetchMs, 9);
        Assert.Equal(plan.RecomputeAllTtftMs - plan.ChosenTtftMs, plan.SavingMs);
        Assert.StartsWith("fetch 512 blocks (512 from dram) then compute 100 tokens", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_whose_recompute_is_cheaper_than_any_fetch_recomputes()
    {
        // 0.5 µs per token: a small model on a big GPU re-prefills 4K tokens in 3 ms; the KV weighs 512 MiB.
        var f = new Fixture(Fixture.Profile(1, 0.0005, 0));
        var request = new PlanRequest(256, [new CachedRun(256, [FetchSource.LocalDram, FetchSource.LocalSsd, Fixture.PeerA])], LayerwiseOverlap: true);

        var plan = f.Planner.Choose(request);

        Assert.Equal(PlanDecision.Recompute, plan.Decision);
        Assert.Empty(plan.Fetches);
        Assert.Equal(4096, plan.RecomputeTokens);
        Assert.Equal(0, plan.FetchMs);
        Assert.Equal(plan.RecomputeAllTtftMs, plan.ChosenTtftMs);
        Assert.True(plan.FetchAllTtftMs > plan.RecomputeAllTtftMs);
        Assert.StartsWith("recompute:", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("beats every fetch plan", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slow_peer_loses_to_a_faster_replica()
    {
        var f = new Fixture(SlowDevice);
        f.Teach(Fixture.PeerA, bandwidthBytesPerSecond: 0.05e9, fixedMs: 2);

        var plan = f.Planner.Choose(new PlanRequest(128, [new CachedRun(128, [Fixture.PeerA, Fixture.PeerB])], false));

        Assert.Equal(PlanDecision.Fetch, plan.Decision);
        Assert.Equal([new FetchAssignment(Fixture.PeerB, 0, 128)], plan.Fetches);
    }

    [Fact]
    public void A_slow_peer_with_no_replica_is_recomputed_instead()
    {
        var f = new Fixture(SlowDevice);
        var request = Fixture.AllCached(128, Fixture.PeerA);
        Assert.Equal(PlanDecision.Fetch, f.Planner.Choose(request).Decision);

        f.Teach(Fixture.PeerA, bandwidthBytesPerSecond: 0.05e9, fixedMs: 2);

        Assert.Equal(PlanDecision.Recompute, f.Planner.Choose(request).Decision);
    }

    [Fact]
    public void A_dead_peer_is_never_planned_when_a_replica_lives()
    {
        var f = new Fixture(SlowDevice);
        f.Teach(Fixture.PeerA, bandwidthBytesPerSecond: 100e9, fixedMs: 0.01); // the fastest link there is, but down
        f.Links.MarkDown(Fixture.PeerA);

        var plan = f.Planner.Choose(new PlanRequest(64, [new CachedRun(64, [Fixture.PeerA, Fixture.PeerB])], false));

        Assert.Equal(PlanDecision.Fetch, plan.Decision);
        Assert.All(plan.Fetches, a => Assert.NotEqual(Fixture.PeerA, a.Source));
    }

    [Fact]
    public void A_prefix_only_on_a_dead_peer_is_recomputed()
    {
        var f = new Fixture(SlowDevice);
        f.Links.MarkDown(Fixture.PeerA);

        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));

        Assert.Equal(PlanDecision.Recompute, plan.Decision);
        Assert.True(double.IsPositiveInfinity(plan.FetchAllTtftMs));
        Assert.Contains("only on down sources (peer:a)", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dead_peer_cuts_the_fetchable_prefix_where_its_run_starts()
    {
        var f = new Fixture(SlowDevice);
        f.Links.MarkDown(Fixture.PeerA);
        var request = new PlanRequest(
            100, [new CachedRun(FetchSource.LocalDram, 30), new CachedRun(Fixture.PeerA, 40), new CachedRun(FetchSource.LocalDram, 10)], false);

        var plan = f.Planner.Choose(request);

        Assert.Equal(PlanDecision.Fetch, plan.Decision);
        Assert.Equal([new FetchAssignment(FetchSource.LocalDram, 0, 30)], plan.Fetches);
        Assert.Equal(70 * 16, plan.RecomputeTokens);
        Assert.Contains("blocks from 30 on are only on down sources (peer:a)", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_cached_means_recompute()
    {
        var f = new Fixture(SlowDevice);

        var plan = f.Planner.Choose(new PlanRequest(10, [], false, TailTokens: 5));

        Assert.Equal(PlanDecision.Recompute, plan.Decision);
        Assert.Equal(165, plan.RecomputeTokens);
        Assert.Equal("recompute: nothing of the prompt is cached", plan.Reason);
    }

    [Fact]
    public void Mid_range_bandwidth_with_layerwise_overlap_splits()
    {
        // H100 re-prefills a 16-token block in ~0.6 ms; a 10 Gbit/s peer fetches it in ~1.7 ms. Fetching all is
        // slower than recomputing, but fetching the first part while computing the rest beats both.
        var f = new Fixture(Fixture.H100);

        var plan = f.Planner.Choose(Fixture.AllCached(256, Fixture.PeerA, overlap: true));

        Assert.Equal(PlanDecision.Split, plan.Decision);
        Assert.InRange(plan.FetchBlocks, 16, 255);
        Assert.Equal([new FetchAssignment(Fixture.PeerA, 0, plan.FetchBlocks)], plan.Fetches);
        Assert.Equal(4096 - (plan.FetchBlocks * 16), plan.RecomputeTokens);
        Assert.True(plan.ChosenTtftMs < plan.RecomputeAllTtftMs - 5, plan.Reason);
        Assert.True(plan.ChosenTtftMs < plan.FetchAllTtftMs, plan.Reason);
        Assert.StartsWith($"split: fetch {plan.FetchBlocks} of 256 cached blocks", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("overlapped", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_link_without_overlap_recomputes()
    {
        var f = new Fixture(Fixture.H100);

        var plan = f.Planner.Choose(Fixture.AllCached(256, Fixture.PeerA, overlap: false));

        Assert.Equal(PlanDecision.Recompute, plan.Decision);
    }

    [Fact]
    public void A_prefix_under_min_fetch_tokens_is_recomputed()
    {
        // 15 blocks = 240 tokens on a device where fetching them would save plenty.
        var f = new Fixture(SlowDevice);
        var request = Fixture.AllCached(15, FetchSource.LocalDram);

        var plan = f.Planner.Choose(request);
        Assert.Equal(PlanDecision.Recompute, plan.Decision);
        Assert.Contains("240 tokens is under the minimum fetch of 256", plan.Reason, StringComparison.Ordinal);

        var lenient = new Fixture(SlowDevice, new PolicyOptions { MinFetchTokens = 0 });
        Assert.Equal(PlanDecision.Fetch, lenient.Planner.Choose(request).Decision);
    }

    [Fact]
    public void Splits_shorter_than_min_fetch_tokens_are_not_considered()
    {
        // With overlap on a mid-range peer the best split is small; a high minimum forces a longer one or none.
        var f = new Fixture(Fixture.H100, new PolicyOptions { MinFetchTokens = 3000 });

        var plan = f.Planner.Choose(Fixture.AllCached(256, Fixture.PeerA, overlap: true));

        Assert.True(plan.Decision == PlanDecision.Recompute || plan.FetchTokens >= 3000, plan.Reason);
    }

    [Fact]
    public void A_saving_under_min_saving_ms_is_not_worth_a_fetch()
    {
        // 32 DRAM blocks: fetching takes ~8.7 ms + one token; re-prefilling 512 tokens at 0.0224 ms each ~11.5 ms.
        var profile = Fixture.Profile(1, 0.0224, 0);
        var request = Fixture.AllCached(32, FetchSource.LocalDram);

        var strict = new Fixture(profile).Planner.Choose(request);
        Assert.Equal(PlanDecision.Recompute, strict.Decision);
        Assert.InRange(strict.RecomputeAllTtftMs - strict.FetchAllTtftMs, 1, 5);
        Assert.Contains("under the minimum saving of 5.0 ms", strict.Reason, StringComparison.Ordinal);

        var lenient = new Fixture(profile, new PolicyOptions { MinSavingMs = 1 }).Planner.Choose(request);
        Assert.Equal(PlanDecision.Fetch, lenient.Decision);
        Assert.InRange(lenient.SavingMs, 1, 5);
    }

    [Fact]
    public void Replicas_spread_over_sources_when_fetches_run_in_parallel()
    {
        var f = new Fixture(SlowDevice);
        var runs = new PlanRequest(64, [new CachedRun(32, [Fixture.PeerA, Fixture.PeerB]), new CachedRun(32, [Fixture.PeerA, Fixture.PeerB])], false);

        var plan = f.Planner.Choose(runs);

        Assert.Equal([new FetchAssignment(Fixture.PeerA, 0, 32), new FetchAssignment(Fixture.PeerB, 32, 32)], plan.Fetches);
        Assert.Equal(f.Cost.FetchMs(Fixture.PeerA, 32), plan.FetchMs, 9);
        Assert.Contains("32 from peer:a, 32 from peer:b", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sequential_sources_add_up_their_fetch_times()
    {
        var f = new Fixture(SlowDevice, new PolicyOptions { SourcesInParallel = false });
        var request = new PlanRequest(64, [new CachedRun(FetchSource.LocalDram, 32), new CachedRun(Fixture.PeerB, 32)], false);

        var plan = f.Planner.Choose(request);

        Assert.Equal(PlanDecision.Fetch, plan.Decision);
        Assert.Equal(f.Cost.FetchMs(FetchSource.LocalDram, 32) + f.Cost.FetchMs(Fixture.PeerB, 32), plan.FetchMs, 9);
    }

    [Fact]
    public void Adjacent_runs_on_one_source_merge_into_one_fetch()
    {
        var f = new Fixture(SlowDevice);
        var request = new PlanRequest(64, [new CachedRun(FetchSource.LocalDram, 20), new CachedRun(FetchSource.LocalDram, 44)], false);

        var plan = f.Planner.Choose(request);

        Assert.Equal([new FetchAssignment(FetchSource.LocalDram, 0, 64)], plan.Fetches);
    }

    [Fact]
    public void A_fully_cached_prompt_still_recomputes_one_token()
    {
        var f = new Fixture(SlowDevice);

        var plan = f.Planner.Choose(Fixture.AllCached(64, FetchSource.LocalDram));

        Assert.Equal(0, plan.RecomputeTokens);
        Assert.Equal(f.Cost.FetchMs(FetchSource.LocalDram, 64) + f.Cost.RecomputeMs(1, 1024), plan.ChosenTtftMs, 9);
    }

    [Fact]
    public void Inconsistent_requests_are_refused()
    {
        var planner = new Fixture(SlowDevice).Planner;

        Assert.Throws<ArgumentException>(() => planner.Choose(new PlanRequest(0, [], false)));
        Assert.Throws<ArgumentOutOfRangeException>(() => planner.Choose(new PlanRequest(-1, [], false)));
        Assert.Throws<ArgumentOutOfRangeException>(() => planner.Choose(new PlanRequest(1, [], false, -1)));
        var tooLong = Assert.Throws<ArgumentException>(() => planner.Choose(Fixture.AllCached(5, FetchSource.LocalDram) with { ChainBlocks = 4 }));
        Assert.Contains("cover 5 blocks, more than the prompt's 4", tooLong.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => planner.Choose(new PlanRequest(4, [new CachedRun(0, [FetchSource.LocalDram])], false)));
        Assert.Throws<ArgumentException>(() => planner.Choose(new PlanRequest(4, [new CachedRun(2, [])], false)));
        Assert.Throws<ArgumentNullException>(() => planner.Choose(null!));
    }

    [Fact]
    public void Bad_policy_options_are_refused_naming_the_property_and_its_true_default()
    {
        var cost = new Fixture(SlowDevice).Cost;
        PolicyOptions[] bad =
        [
            new() { MinSavingMs = -1 },
            new() { MinFetchTokens = -1 },
            new() { DeadlineSlack = 0.5 },
            new() { DeadlineGraceMs = double.NaN },
            new() { WaitToleranceRatio = 0.9 },
            new() { OverdueGraceRatio = -0.1 },
        ];
        string[] names = ["MinSavingMs", "MinFetchTokens", "DeadlineSlack", "DeadlineGraceMs", "WaitToleranceRatio", "OverdueGraceRatio"];
        var defaults = new PolicyOptions();

        for (var i = 0; i < bad.Length; i++)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Planner(cost, bad[i]));
            Assert.Equal(names[i], error.ParamName);
            // The message states the default a user falls back to: it must be the one the options really have.
            var value = Convert.ToString(typeof(PolicyOptions).GetProperty(names[i])!.GetValue(defaults), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains($"(default {value})", error.Message, StringComparison.Ordinal);
        }
    }
}
