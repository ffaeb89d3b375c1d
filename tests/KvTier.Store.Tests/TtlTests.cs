using KvTier.Core;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Store.Tests;

public sealed class TtlTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_block_is_served_until_its_ttl_passes_then_counted_as_a_ttl_eviction()
    {
        using var store = new BlockStore(Blocks.Small(), _time);
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 100), ttl: TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[100], out var info));
        Assert.Equal(_time.GetUtcNow().AddSeconds(0.1).ToUnixTimeMilliseconds(), info.ExpiresUnixMs);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(BlockStatus.NotFound, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[100], out _));
        Assert.Equal(0, store.LookupPrefix(Blocks.Tenant, [Blocks.Key(1)], default));
        Assert.Equal(1, store.GetStats().EvictionsTtl);
    }

    [Fact]
    public void Touch_extends_the_ttl_and_touch_without_ttl_clears_it()
    {
        using var store = new BlockStore(Blocks.Small(), _time);
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 100), ttl: TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(BlockStatus.Ok, store.Touch(Blocks.Tenant, Blocks.Key(1), TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.True(Blocks.Has(store, Blocks.Key(1)));

        Assert.Equal(BlockStatus.Ok, store.Touch(Blocks.Tenant, Blocks.Key(1), null));
        _time.Advance(TimeSpan.FromDays(365));
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[100], out var info));
        Assert.Equal(0, info.ExpiresUnixMs);
        Assert.Equal(0, store.GetStats().EvictionsTtl);
    }

    [Fact]
    public void Touch_of_a_missing_or_expired_block_is_not_found()
    {
        using var store = new BlockStore(Blocks.Small(), _time);
        Assert.Equal(BlockStatus.NotFound, store.Touch(Blocks.Tenant, Blocks.Key(1), TimeSpan.FromSeconds(1)));

        store.Put(Blocks.Tenant, Blocks.Key(2), Blocks.Payload(2, 100), ttl: TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(BlockStatus.NotFound, store.Touch(Blocks.Tenant, Blocks.Key(2), TimeSpan.FromSeconds(100)));
        Assert.False(Blocks.Has(store, Blocks.Key(2)));
    }

    [Fact]
    public void A_non_positive_ttl_is_misuse()
    {
        using var store = new BlockStore(Blocks.Small(), _time);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Put(Blocks.Tenant, Blocks.Key(1), new byte[1], ttl: TimeSpan.Zero));
    }
}
