using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class WaiterTests
{
    // H100: re-prefilling 4K tokens takes ~160 ms; fetching them from local DRAM ~70 ms once someone has computed them.
    private static readonly PlanRequest ColdNow = new(256, [], LayerwiseOverlap: false);
    private static readonly PlanRequest WhenCached = Fixture.AllCached(256, FetchSource.LocalDram);

    [Fact]
    public void A_waiter_waits_when_the_holder_is_nearly_done()
    {
        var f = new Fixture(Fixture.H100);
        var lease = new LeaseResult(LeaseStatus.BeingComputed, "engine-1", TimeSpan.FromMilliseconds(20), false, TimeSpan.FromSeconds(5));

        var decision = f.Planner.DecideWait(ColdNow, WhenCached, lease);

        Assert.True(decision.Wait, decision.Reason);
        Assert.Equal(20 + f.Planner.Choose(WhenCached).ChosenTtftMs, decision.WaitTtftMs, 9);
        Assert.Equal(f.Planner.Choose(ColdNow).ChosenTtftMs, decision.ProceedTtftMs, 9);
        Assert.StartsWith("wait for engine-1", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stampede_waiter_waits_when_the_only_cost_is_the_fetch_after_a_full_prefill()
    {
        // Everyone misses at once: the holder has just started, so its ETA is a whole prefill. Recomputing would
        // be only a little faster for this request, and the fleet would prefill the prefix once per engine.
        // The engine-sim model on this machine: a 4K-token system prompt takes ~1.8 s to prefill and ~1 ms to fetch.
        var f = new Fixture(PrefillProfile.Get("tiny", "cpu-2core"), geometry: ModelPreset.Get("tiny").Geometry);
        var cold = new PlanRequest(256, [], false, TailTokens: 40);
        var cached = Fixture.AllCached(256, FetchSource.LocalDram, tailTokens: 40);
        var eta = TimeSpan.FromMilliseconds(f.Cost.RecomputeMs(4096, 0));
        var lease = new LeaseResult(LeaseStatus.BeingComputed, "engine-1", eta, false, TimeSpan.FromSeconds(5));

        var decision = f.Planner.DecideWait(cold, cached, lease);

        Assert.True(decision.Wait, decision.Reason);
        Assert.InRange(decision.WaitTtftMs / decision.ProceedTtftMs, 1, 1.1);
    }

    [Fact]
    public void A_waiter_proceeds_when_the_holder_has_long_to_go()
    {
        var f = new Fixture(Fixture.H100);
        var lease = new LeaseResult(LeaseStatus.BeingComputed, "engine-1", TimeSpan.FromSeconds(2), false, TimeSpan.FromSeconds(5));

        var decision = f.Planner.DecideWait(ColdNow, WhenCached, lease);

        Assert.False(decision.Wait, decision.Reason);
        Assert.Equal(PlanDecision.Recompute, decision.ProceedPlan.Decision);
        Assert.StartsWith("proceed: waiting for engine-1", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_waiter_goes_ahead_when_the_holder_is_late_past_the_grace()
    {
        var f = new Fixture(Fixture.H100);
        var now = f.Planner.Choose(ColdNow).ChosenTtftMs;
        var late = TimeSpan.FromMilliseconds(now * f.Planner.Options.OverdueGraceRatio * 1.01);
        var lease = new LeaseResult(LeaseStatus.BeingComputed, "engine-1", TimeSpan.Zero, true, TimeSpan.FromSeconds(1), late);

        var decision = f.Planner.DecideWait(ColdNow, WhenCached, lease);

        Assert.False(decision.Wait);
        Assert.True(double.IsPositiveInfinity(decision.WaitTtftMs));
        Assert.Contains("past its ETA", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_waiter_keeps_waiting_on_a_holder_a_little_late_as_if_it_were_finishing()
    {
        var f = new Fixture(Fixture.H100);
        var now = f.Planner.Choose(ColdNow).ChosenTtftMs;
        var grace = now * f.Planner.Options.OverdueGraceRatio;
        var lease = new LeaseResult(LeaseStatus.BeingComputed, "engine-1", TimeSpan.Zero, true, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(grace / 2));

        var decision = f.Planner.DecideWait(ColdNow, WhenCached, lease);

        var ready = f.Planner.Choose(WhenCached).ChosenTtftMs;
        Assert.Equal((grace / 2) + ready, decision.WaitTtftMs, 3); // TimeSpan keeps 100 ns ticks
        Assert.Equal(decision.WaitTtftMs <= now * f.Planner.Options.WaitToleranceRatio, decision.Wait);
    }

    [Fact]
    public void The_holder_itself_is_not_a_waiter()
    {
        var f = new Fixture(Fixture.H100);
        var lease = new LeaseResult(LeaseStatus.Acquired, "engine-1", TimeSpan.FromSeconds(1), false, TimeSpan.FromSeconds(5));

        Assert.Throws<ArgumentException>(() => f.Planner.DecideWait(ColdNow, WhenCached, lease));
    }
}
