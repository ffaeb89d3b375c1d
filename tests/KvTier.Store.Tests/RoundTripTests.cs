using KvTier.Core;

namespace KvTier.Store.Tests;

public sealed class RoundTripTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_535)]
    [InlineData(65_537)]
    [InlineData(256 << 10)]
    public void Put_then_get_returns_the_same_bytes_and_header(int length)
    {
        using var store = new BlockStore(Blocks.Small());
        var key = Blocks.Key(length);
        var payload = Blocks.Payload(length, length);

        Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, key, payload, geometryFingerprint: 42));
        var buffer = new byte[length + 10];
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, key, buffer, out var info));

        Assert.Equal(length, info.PayloadLength);
        Assert.Equal(42UL, info.GeometryFingerprint);
        Assert.Equal(BlockChecksum.Compute(payload), info.PayloadChecksum);
        Assert.Equal(StorageTier.Dram, info.Tier);
        Assert.True(buffer.AsSpan(0, length).SequenceEqual(payload));
    }

    [Fact]
    public void Get_of_an_unknown_key_is_not_found_and_counts_a_miss()
    {
        using var store = new BlockStore(Blocks.Small());
        Assert.Equal(BlockStatus.NotFound, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[16], out _));
        Assert.Equal(1, store.GetStats().Misses);
    }

    [Fact]
    public void Get_into_a_small_buffer_reports_buffer_too_small()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 1000));
        Assert.Equal(BlockStatus.BufferTooSmall, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[999], out _));
        Assert.Equal(BlockStatus.Ok, store.Peek(Blocks.Tenant, Blocks.Key(1), out var info));
        Assert.Equal(1000, info.PayloadLength);
    }

    [Fact]
    public void A_block_over_the_maximum_is_refused_as_too_large()
    {
        using var store = new BlockStore(Blocks.Small(maxBlock: 1024));
        Assert.Equal(BlockStatus.TooLarge, store.Put(Blocks.Tenant, Blocks.Key(1), new byte[1025]));
        Assert.False(Blocks.Has(store, Blocks.Key(1)));
    }

    [Fact]
    public void Overwriting_a_key_serves_the_newest_bytes()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 500));
        var newer = Blocks.Payload(2, 700);
        store.Put(Blocks.Tenant, Blocks.Key(1), newer);

        var buffer = new byte[700];
        Assert.Equal(BlockStatus.Ok, store.Get(Blocks.Tenant, Blocks.Key(1), buffer, out var info));
        Assert.Equal(700, info.PayloadLength);
        Assert.Equal(newer, buffer);
    }

    [Fact]
    public void Tenants_do_not_see_each_others_blocks()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put("tenant-a", Blocks.Key(1), Blocks.Payload(1, 100));

        Assert.Equal(BlockStatus.NotFound, store.Get("tenant-b", Blocks.Key(1), new byte[100], out _));
        Assert.Equal(0, store.LookupPrefix("tenant-b", [Blocks.Key(1)], default));
        Assert.Equal(BlockStatus.Ok, store.Get("tenant-a", Blocks.Key(1), new byte[100], out _));
    }

    [Fact]
    public void Lookup_counts_the_leading_cached_keys_and_their_tiers()
    {
        using var store = new BlockStore(Blocks.Small());
        var chain = Enumerable.Range(0, 10).Select(i => Blocks.Key(i)).ToArray();
        for (var i = 0; i < 6; i++)
        {
            store.Put(Blocks.Tenant, chain[i], Blocks.Payload(i, 64));
        }

        store.Put(Blocks.Tenant, chain[8], Blocks.Payload(8, 64)); // present, but after the first miss
        var tiers = new StorageTier[chain.Length];

        Assert.Equal(6, store.LookupPrefix(Blocks.Tenant, chain, tiers));
        Assert.All(tiers[..6], t => Assert.Equal(StorageTier.Dram, t));
        Assert.All(tiers[6..], t => Assert.Equal(StorageTier.None, t));
    }

    [Fact]
    public void Delete_removes_a_block_and_is_counted_once()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 100));

        Assert.Equal(BlockStatus.Ok, store.Delete(Blocks.Tenant, Blocks.Key(1)));
        Assert.Equal(BlockStatus.NotFound, store.Delete(Blocks.Tenant, Blocks.Key(1)));
        Assert.Equal(BlockStatus.NotFound, store.Get(Blocks.Tenant, Blocks.Key(1), new byte[100], out _));
        Assert.Equal(1, store.GetStats().EvictionsDelete);
    }

    [Fact]
    public void Sixteen_threads_putting_and_getting_see_only_their_own_correct_bytes()
    {
        using var store = new BlockStore(Blocks.Small(memory: 64L << 20));
        var failures = 0;
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, t =>
        {
            var buffer = new byte[64 << 10];
            for (var i = 0; i < 50; i++)
            {
                var id = t * 1000 + i;
                var payload = Blocks.Payload(id, 1000 + i * 997 % (60 << 10));
                if (store.Put(Blocks.Tenant, Blocks.Key(id), payload) != BlockStatus.Ok
                    || store.Get(Blocks.Tenant, Blocks.Key(id), buffer, out var info) != BlockStatus.Ok
                    || info.PayloadLength != payload.Length
                    || !buffer.AsSpan(0, payload.Length).SequenceEqual(payload))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });

        Assert.Equal(0, failures);
        Assert.Equal(800, store.GetStats().Puts);
    }

    [Fact]
    public void ListBlocks_names_every_live_block_with_its_tenant_and_skips_deleted_ones()
    {
        using var store = new BlockStore(Blocks.Small());
        store.Put("tenant-a", Blocks.Key(1), Blocks.Payload(1, 100));
        store.Put("tenant-b", Blocks.Key(2), Blocks.Payload(2, 100));
        store.Put("tenant-a", Blocks.Key(3), Blocks.Payload(3, 100));
        store.Put("tenant-a", Blocks.Key(3), Blocks.Payload(4, 200)); // overwritten: listed once
        store.Delete("tenant-b", Blocks.Key(2));

        var before = store.GetStats();
        var blocks = store.ListBlocks().OrderBy(b => b.Key.ToString(), StringComparer.Ordinal).ToArray();

        Assert.Equal(before.DramBlocks, store.GetStats().DramBlocks); // listing writes nothing
        Assert.Equal(before.Misses, store.GetStats().Misses);        // and reads nothing a client asked for

        Assert.Equal(new[] { ("tenant-a", Blocks.Key(1)), ("tenant-a", Blocks.Key(3)) }.OrderBy(b => b.Item2.ToString(), StringComparer.Ordinal), blocks);
    }
}
