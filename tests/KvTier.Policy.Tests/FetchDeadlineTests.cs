using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class FetchDeadlineTests
{
    private static readonly PrefillProfile SlowDevice = Fixture.Profile(2, 0.5, 1e-5);

    [Fact]
    public void A_fetch_within_its_deadline_keeps_going()
    {
        var f = new Fixture(SlowDevice);
        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));
        var deadline = f.Planner.StartFetch(plan, f.Time);

        f.Time.Advance(TimeSpan.FromMilliseconds(plan.FetchMs));
        var check = deadline.Check(10);

        Assert.False(check.Now);
        Assert.Equal(TimeSpan.FromMilliseconds((plan.FetchMs * 1.5) + 2), deadline.Budget);
        Assert.Equal(deadline.Budget - TimeSpan.FromMilliseconds(plan.FetchMs), check.UntilDeadline);
        Assert.Equal(54, check.RemainingBlocks);
    }

    [Fact]
    public void A_fetch_past_its_deadline_hands_the_remaining_blocks_back()
    {
        var f = new Fixture(SlowDevice);
        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));
        var deadline = FetchDeadline.Start(plan, f.Time, new PolicyOptions { DeadlineSlack = 2, DeadlineGraceMs = 0 });

        f.Time.Advance(TimeSpan.FromMilliseconds((plan.FetchMs * 2) + 0.1));
        var check = deadline.Check(40);

        Assert.True(check.Now);
        Assert.Equal(40, check.FirstRemainingBlock);
        Assert.Equal(24, check.RemainingBlocks);
        Assert.Equal(TimeSpan.Zero, check.UntilDeadline);
        Assert.True(check.Elapsed > deadline.Budget);
    }

    [Fact]
    public void The_deadline_counts_from_the_given_start()
    {
        var f = new Fixture(SlowDevice);
        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));
        var started = f.Time.GetTimestamp();
        f.Time.Advance(TimeSpan.FromSeconds(1));

        var deadline = FetchDeadline.Start(plan, f.Time, startedAt: started);

        Assert.True(deadline.Check(0).Now);
        Assert.Equal(TimeSpan.FromSeconds(1), deadline.Check(0).Elapsed);
        Assert.Same(plan, deadline.Plan);
    }

    [Fact]
    public void A_finished_fetch_never_hands_back_even_late()
    {
        var f = new Fixture(SlowDevice);
        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));
        var deadline = FetchDeadline.Start(plan, f.Time);

        f.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(deadline.Check(64).Now);
    }

    [Fact]
    public void A_plan_that_fetches_nothing_has_no_budget_and_nothing_to_hand_back()
    {
        var f = new Fixture(Fixture.Profile(1, 0.001, 0));
        var plan = f.Planner.Choose(Fixture.AllCached(64, Fixture.PeerA));
        Assert.Equal(PlanDecision.Recompute, plan.Decision);

        var deadline = FetchDeadline.Start(plan, f.Time);
        f.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.Zero, deadline.Budget);
        Assert.False(deadline.Check(0).Now);
        Assert.Throws<ArgumentOutOfRangeException>(() => deadline.Check(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => deadline.Check(-1));
    }
}
