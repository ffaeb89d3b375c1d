namespace KvTier.Transfer.Tests;

public sealed class StagingArenaTests
{
    private const int Page = StagingArena.PageBytes;

    [Fact]
    public async Task A_full_arena_makes_renters_wait_until_a_lease_returns()
    {
        using var arena = new StagingArena(4 * Page);
        var first = await arena.RentAsync(3 * Page);
        var waiting = arena.RentAsync(2 * Page);

        Assert.False(waiting.IsCompleted);
        Assert.Equal(3L * Page, arena.LeasedBytes);

        first.Dispose();
        var second = await waiting;
        Assert.Equal(2 * Page, second.Length);
        second.Dispose();
        Assert.Equal(0, arena.LeasedBytes);
    }

    [Fact]
    public async Task Waiters_are_served_in_arrival_order_so_a_large_block_is_not_starved()
    {
        using var arena = new StagingArena(4 * Page);
        var held = await arena.RentAsync(2 * Page);
        var large = arena.RentAsync(4 * Page).AsTask();
        var small = arena.RentAsync(1 * Page).AsTask(); // would fit now, but must queue behind the large one

        Assert.False(small.IsCompleted);
        held.Dispose();
        var l = await large;
        Assert.False(small.IsCompleted);
        l.Dispose();
        (await small).Dispose();
    }

    [Fact]
    public async Task Leases_do_not_overlap_and_hold_what_was_written()
    {
        using var arena = new StagingArena(8 * Page);
        var a = await arena.RentAsync(Page + 1);
        var b = await arena.RentAsync(3 * Page);
        a.Span.Fill(0xAA);
        b.Span.Fill(0xBB);

        Assert.All(a.Span.ToArray(), x => Assert.Equal(0xAA, x));
        Assert.All(b.Span.ToArray(), x => Assert.Equal(0xBB, x));
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public async Task A_cancelled_wait_gives_up_without_taking_memory()
    {
        using var arena = new StagingArena(2 * Page);
        var held = await arena.RentAsync(2 * Page);
        using var cts = new CancellationTokenSource();
        var waiting = arena.RentAsync(Page, cts.Token).AsTask();

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, arena.LeasedBytes);
        (await arena.RentAsync(2 * Page)).Dispose();
    }

    [Fact]
    public void A_block_larger_than_the_arena_is_refused_with_the_fix()
    {
        using var arena = new StagingArena(2 * Page);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => arena.RentAsync(3 * Page));
        Assert.Contains("--staging", ex.Message, StringComparison.Ordinal);
    }
}
