using KvTier.Core;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Store.Tests;

/// <summary>Lending a block's stored bytes in place (the peer data plane sends them to a receiver that verifies them).</summary>
public sealed class LendTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvtier-lend-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void A_lent_block_is_its_stored_payload_with_the_checksum_a_receiver_verifies_it_against()
    {
        using var store = new BlockStore(Blocks.Small());
        var payload = Blocks.Payload(3, 100_000);
        Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, Blocks.Key(3), payload, geometryFingerprint: 42));
        var seen = new Seen();

        Assert.Equal(BlockStatus.Ok, store.Lend(Blocks.Tenant, Blocks.Key(3), ref seen, Seen.Take, out var info));

        Assert.Equal(payload, seen.Bytes);
        Assert.Equal(BlockChecksum.Compute(payload), info.PayloadChecksum);
        Assert.Equal(info, seen.Info);
        Assert.Equal(42UL, info.GeometryFingerprint);
        Assert.Equal(StorageTier.Dram, info.Tier);
        Assert.Equal(1, store.GetStats().Hits);
    }

    [Fact]
    public void A_missing_or_expired_block_is_not_lent_and_counts_as_a_miss()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var store = new BlockStore(Blocks.Small(), time);
        store.Put(Blocks.Tenant, Blocks.Key(1), Blocks.Payload(1, 100), ttl: TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(11));
        var seen = new Seen();

        Assert.Equal(BlockStatus.NotFound, store.Lend(Blocks.Tenant, Blocks.Key(1), ref seen, Seen.Take, out _));
        Assert.Equal(BlockStatus.NotFound, store.Lend(Blocks.Tenant, Blocks.Key(2), ref seen, Seen.Take, out _));

        Assert.Equal(0, seen.Calls);
        Assert.Equal(2, store.GetStats().Misses);
        Assert.Equal(1, store.GetStats().EvictionsTtl);
    }

    [Fact]
    public void A_flipped_stored_byte_is_lent_as_is_and_its_checksum_exposes_it()
    {
        // The lend leaves payload verification to the receiver: its checksum must still catch the damage.
        using var store = new BlockStore(Blocks.Small());
        var payload = Blocks.Payload(7, 100_000);
        Assert.Equal(BlockStatus.Ok, store.PutWithFault(Blocks.Tenant, Blocks.Key(7), payload, 4096));
        var seen = new Seen();

        Assert.Equal(BlockStatus.Ok, store.Lend(Blocks.Tenant, Blocks.Key(7), ref seen, Seen.Take, out var info));

        Assert.Equal(BlockChecksum.Compute(payload), info.PayloadChecksum);
        Assert.NotEqual(info.PayloadChecksum, BlockChecksum.Compute(seen.Bytes));
    }

    [Fact]
    public void A_block_on_the_ssd_is_lent_from_a_verified_copy()
    {
        const int blockBytes = 200 << 10;
        using var store = new BlockStore(new StoreOptions { MemoryBytes = 16L << 20, MaxBlockBytes = 256 << 10, SsdDirectory = _dir, SsdBytes = 256L << 20 });
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(BlockStatus.Ok, store.Put(Blocks.Tenant, Blocks.Key(i), Blocks.Payload(i, blockBytes)));
        }

        var seen = new Seen();
        Assert.Equal(BlockStatus.Ok, store.Lend(Blocks.Tenant, Blocks.Key(0), ref seen, Seen.Take, out var info));

        Assert.Equal(StorageTier.Ssd, info.Tier);
        Assert.Equal(Blocks.Payload(0, blockBytes), seen.Bytes);
    }

    [Fact]
    public void Lent_blocks_near_the_head_get_the_second_chance_a_read_gives()
    {
        const int blockBytes = 64 << 10;
        var options = Blocks.Small(memory: 32L << 20, maxBlock: 256 << 10);
        using var store = new BlockStore(options);
        var payload = Blocks.Payload(0, blockBytes);
        var hot = Enumerable.Range(0, 20).Select(i => i * 3).ToArray();
        var total = (int)(6 * options.MemoryBytes / blockBytes);
        var seen = new Seen();

        for (var i = 0; i < total; i++)
        {
            store.Put(Blocks.Tenant, Blocks.Key(i), payload);
            if (i >= 60 && i % 8 == 0)
            {
                foreach (var h in hot)
                {
                    Assert.Equal(BlockStatus.Ok, store.Lend(Blocks.Tenant, Blocks.Key(h), ref seen, Seen.Take, out _));
                }
            }
        }

        Assert.All(hot, h => Assert.True(Blocks.Has(store, Blocks.Key(h)), $"hot block {h} was evicted"));
        Assert.Equal(0, Enumerable.Range(0, 60).Except(hot).Count(i => Blocks.Has(store, Blocks.Key(i))));
        Assert.True(store.GetStats().SecondChanceCopies > 0);
    }

    private struct Seen
    {
        public static readonly BlockLender<Seen> Take = (in BlockInfo info, ReadOnlySpan<byte> payload, ref Seen seen) =>
        {
            seen.Calls++;
            seen.Info = info;
            seen.Bytes = payload.ToArray();
        };

        public int Calls;
        public BlockInfo Info;
        public byte[] Bytes;
    }
}
