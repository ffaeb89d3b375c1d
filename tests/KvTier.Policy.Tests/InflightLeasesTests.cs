using KvTier.Core;
using KvTier.Policy;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Policy.Tests;

public sealed class InflightLeasesTests
{
    private static readonly BlockKey Prefix = BlockKey.ParseHex(new string('a', 64));
    private static readonly BlockKey Other = BlockKey.ParseHex(new string('b', 64));

    private readonly FakeTimeProvider _time = new();
    private readonly InflightLeases _leases;

    public InflightLeasesTests()
    {
        _leases = new InflightLeases(_time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void The_first_caller_acquires_and_the_next_sees_it_being_computed_with_the_eta_left()
    {
        var first = _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var second = _leases.TryAcquire(Prefix, "engine-2", TimeSpan.FromSeconds(2));

        Assert.Equal(new LeaseResult(LeaseStatus.Acquired, "engine-1", TimeSpan.FromSeconds(2), false, TimeSpan.FromSeconds(5)), first);
        Assert.Equal(LeaseStatus.BeingComputed, second.Status);
        Assert.Equal("engine-1", second.Holder);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), second.EtaRemaining);
        Assert.Equal(TimeSpan.FromMilliseconds(4500), second.ExpiresIn);
        Assert.False(second.EtaOverdue);
        Assert.Equal(LeaseStatus.Acquired, _leases.TryAcquire(Other, "engine-2", TimeSpan.FromSeconds(1)).Status);
    }

    [Fact]
    public void A_holder_that_stops_renewing_loses_the_lease_after_the_ttl()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));

        _time.Advance(TimeSpan.FromSeconds(5));
        var next = _leases.TryAcquire(Prefix, "engine-2", TimeSpan.FromSeconds(2));

        Assert.Equal(LeaseStatus.Acquired, next.Status);
        Assert.Equal("engine-2", next.Holder);
        Assert.False(_leases.Renew(Prefix, "engine-1"), "the dead holder's lease is gone");
        Assert.False(_leases.Release(Prefix, "engine-1"));
    }

    [Fact]
    public void Renewal_keeps_the_lease_alive_past_the_ttl()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(4));
            Assert.True(_leases.Renew(Prefix, "engine-1"));
        }

        var seen = _leases.TryAcquire(Prefix, "engine-2", TimeSpan.FromSeconds(2));
        Assert.Equal(LeaseStatus.BeingComputed, seen.Status);
        Assert.True(seen.EtaOverdue, "16 s in, a 2 s ETA is overdue");
        Assert.Equal(TimeSpan.Zero, seen.EtaRemaining);
        Assert.False(_leases.Renew(Prefix, "engine-2"), "only the holder renews");
    }

    [Fact]
    public void Renewal_with_a_new_eta_restarts_the_eta()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.True(_leases.Renew(Prefix, "engine-1", TimeSpan.FromSeconds(2)));
        var seen = _leases.Find(Prefix);

        Assert.NotNull(seen);
        Assert.Equal(TimeSpan.FromSeconds(2), seen.Value.EtaRemaining);
        Assert.False(seen.Value.EtaOverdue);
        Assert.True(_leases.Renew(Prefix, "engine-1", TimeSpan.FromSeconds(-1)));
        Assert.Equal(TimeSpan.Zero, _leases.Find(Prefix)!.Value.EtaRemaining);
    }

    [Fact]
    public void Only_the_holder_releases_and_then_the_prefix_is_free()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));

        Assert.False(_leases.Release(Prefix, "engine-2"));
        Assert.True(_leases.Release(Prefix, "engine-1"));
        Assert.Null(_leases.Find(Prefix));
        Assert.Equal(LeaseStatus.Acquired, _leases.TryAcquire(Prefix, "engine-2", TimeSpan.FromSeconds(2)).Status);
    }

    [Fact]
    public void The_holder_asking_again_keeps_its_lease()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(4));

        var again = _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));

        Assert.Equal(LeaseStatus.Acquired, again.Status);
        Assert.Equal(TimeSpan.FromSeconds(5), again.ExpiresIn);
    }

    [Fact]
    public void Sweep_drops_lapsed_leases()
    {
        _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(3));
        _leases.TryAcquire(Other, "engine-1", TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(2, _leases.Count);
        Assert.Equal(1, _leases.Sweep());
        Assert.Equal(1, _leases.Count);
        Assert.Null(_leases.Find(Prefix));
        Assert.NotNull(_leases.Find(Other));
    }

    [Fact]
    public void Leases_never_touched_again_are_swept_as_acquisitions_go_on()
    {
        for (var i = 0; i < 1000; i++)
        {
            var key = new byte[32];
            BitConverter.TryWriteBytes(key, i);
            _leases.TryAcquire(new BlockKey(key), "engine-1", TimeSpan.FromSeconds(1));
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 30; i++)
        {
            _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(1));
        }

        Assert.Equal(1, _leases.Count);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InflightLeases(_time, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => _leases.TryAcquire(Prefix, "", TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _leases.TryAcquire(Prefix, "engine-1", TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() => _leases.Renew(Prefix, " "));
        Assert.Throws<ArgumentException>(() => _leases.Release(Prefix, " "));
        Assert.Equal(TimeSpan.FromSeconds(5), _leases.Ttl);
    }
}
