using KvTier.Core;
using KvTier.Policy;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Policy.Tests;

/// <summary><see cref="InflightLeases.WaitAsync"/>: a waiter hears of a release at once, of a lapse when it is due.</summary>
public sealed class LeaseWaitTests
{
    private static readonly BlockKey Prefix = BlockKey.ParseHex(new string('c', 64));
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30); // a hang fails the test, not the run

    private readonly FakeTimeProvider _time = new();
    private readonly InflightLeases _leases;

    public LeaseWaitTests()
    {
        _leases = new InflightLeases(_time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_release_wakes_the_waiter_with_no_lease_left()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        var wait = _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(30));
        Assert.False(wait.IsCompleted);

        Assert.True(_leases.Release(Prefix, "engine-1"));

        Assert.Null(await wait.WaitAsync(Guard));
    }

    [Fact]
    public async Task When_the_wait_limit_passes_first_the_waiter_gets_the_lease_as_it_stands()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(10));
        var wait = _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(2));

        _time.Advance(TimeSpan.FromSeconds(2));

        var lease = await wait.WaitAsync(Guard);
        Assert.NotNull(lease);
        Assert.Equal("engine-1", lease.Value.Holder);
        Assert.Equal(TimeSpan.FromSeconds(8), lease.Value.EtaRemaining);
    }

    [Fact]
    public async Task A_holder_that_stops_renewing_releases_its_waiters_when_the_lease_lapses()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        var wait = _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(5)); // the TTL, with no renewal

        Assert.Null(await wait.WaitAsync(Guard));
        Assert.Equal(LeaseStatus.Acquired, _leases.TryAcquire(Prefix, "engine-2", TimeSpan.FromSeconds(2)).Status);
    }

    [Fact]
    public async Task Renewals_keep_the_waiter_waiting_past_the_first_ttl()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        var wait = _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(_leases.Renew(Prefix, "engine-1", TimeSpan.FromSeconds(3)));
        _time.Advance(TimeSpan.FromSeconds(4)); // past the first TTL, within the renewed one
        Assert.False(wait.IsCompleted);
        Assert.True(_leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(1)).Status == LeaseStatus.Acquired); // a retry renews too
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(wait.IsCompleted);

        Assert.True(_leases.Release(Prefix, "engine-1"));
        Assert.Null(await wait.WaitAsync(Guard));
    }

    [Fact]
    public async Task No_lease_returns_at_once_and_a_cancelled_wait_throws()
    {
        Assert.Null(await _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(30)).WaitAsync(Guard));

        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        using var cancel = new CancellationTokenSource();
        var wait = _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(30), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Guard));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _leases.WaitAsync(Prefix, TimeSpan.FromSeconds(-1)));
    }
}
