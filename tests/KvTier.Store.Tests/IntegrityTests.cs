using KvTier.Core;

namespace KvTier.Store.Tests;

public sealed class IntegrityTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    [InlineData(99_999)]
    public void A_flipped_byte_in_a_stored_record_is_detected_and_never_returned(int offset)
    {
        using var store = new BlockStore(Blocks.Small());
        var key = Blocks.Key(7);
        Assert.Equal(BlockStatus.Ok, store.PutWithFault(Blocks.Tenant, key, Blocks.Payload(7, 100_000), offset));
        Assert.Equal(BlockStatus.Ok, store.Peek(Blocks.Tenant, key, out _)); // the header itself is intact

        var buffer = new byte[100_000];
        Assert.Equal(BlockStatus.Corrupt, store.Get(Blocks.Tenant, key, buffer, out var info));
        Assert.Equal(default, info);
        Assert.Equal(1, store.GetStats().Corruptions);

        // The bad record is dropped: the next read is a plain miss (the engine recomputes), never the bad bytes.
        Assert.Equal(BlockStatus.NotFound, store.Get(Blocks.Tenant, key, buffer, out _));
        Assert.Equal(1, store.GetStats().Corruptions);
    }

    [Fact]
    public void A_put_whose_bytes_do_not_match_the_senders_checksum_stores_nothing()
    {
        using var store = new BlockStore(Blocks.Small());
        var payload = Blocks.Payload(1, 5000);
        var wrong = BlockChecksum.Compute(payload) ^ 1;

        Assert.Equal(BlockStatus.Corrupt, store.Put(Blocks.Tenant, Blocks.Key(1), payload, 0, null, expectedChecksum: wrong));
        Assert.False(Blocks.Has(store, Blocks.Key(1)));
        Assert.Equal(0, store.GetStats().Puts);

        Assert.Equal(BlockStatus.Ok,
            store.Put(Blocks.Tenant, Blocks.Key(1), payload, 0, null, expectedChecksum: BlockChecksum.Compute(payload)));
        Assert.True(Blocks.Has(store, Blocks.Key(1)));
    }
}
