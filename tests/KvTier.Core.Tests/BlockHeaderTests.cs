using System.Buffers.Binary;
using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>The 64-byte block header: layout, round trip, and that any damage to it is caught.</summary>
public sealed class BlockHeaderTests
{
    private static readonly BlockHeader Sample = new(
        GeometryFingerprint: 0x1122334455667788, PayloadLength: 0x0102030405, PayloadChecksum: 0xfedcba9876543210,
        CreatedUnixMs: 1_700_000_000_123, ExpiresUnixMs: 1_800_000_000_456);

    private static byte[] Written(BlockHeader header)
    {
        var bytes = new byte[BlockHeader.Size];
        header.WriteTo(bytes);
        return bytes;
    }

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        Assert.Equal(BlockStatus.Ok, BlockHeader.TryRead(Written(Sample), out var read));

        Assert.Equal(Sample, read);
        Assert.Equal(0x1122334455667788UL, read.GeometryFingerprint);
        Assert.Equal(0x0102030405L, read.PayloadLength);
        Assert.Equal(0xfedcba9876543210UL, read.PayloadChecksum);
        Assert.Equal(1_700_000_000_123L, read.CreatedUnixMs);
        Assert.Equal(1_800_000_000_456L, read.ExpiresUnixMs);
    }

    [Fact]
    public void Layout_matches_the_documented_offsets()
    {
        var b = Written(Sample);

        Assert.Equal("KVTB"u8.ToArray(), b[..4]);
        Assert.Equal(BlockHeader.Version, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
        Assert.Equal(64, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)));
        Assert.Equal(Sample.GeometryFingerprint, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)));
        Assert.Equal(Sample.PayloadLength, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(24)));
        Assert.Equal(Sample.PayloadChecksum, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(32)));
        Assert.Equal(Sample.CreatedUnixMs, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(40)));
        Assert.Equal(Sample.ExpiresUnixMs, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(48)));
        Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(b.AsSpan(0, 56)), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(56)));
    }

    [Fact]
    public void Flipping_any_single_header_byte_is_corrupt()
    {
        var good = Written(Sample);
        for (var i = 0; i < BlockHeader.Size; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80, 0xff })
            {
                var bad = good.ToArray();
                bad[i] ^= mask;

                var status = BlockHeader.TryRead(bad, out _);

                Assert.True(status == BlockStatus.Corrupt, $"byte {i} ^ 0x{mask:x2} read as {status}");
            }
        }
    }

    [Fact]
    public void Short_source_is_corrupt()
    {
        Assert.Equal(BlockStatus.Corrupt, BlockHeader.TryRead(Written(Sample).AsSpan(0, 63), out _));
        Assert.Equal(BlockStatus.Corrupt, BlockHeader.TryRead([], out _));
    }

    [Fact]
    public void Negative_payload_length_is_corrupt_even_with_a_valid_checksum()
    {
        var header = Sample with { PayloadLength = -1 };

        Assert.Equal(BlockStatus.Corrupt, BlockHeader.TryRead(Written(header), out _));
    }

    [Fact]
    public void RewriteExpiry_keeps_the_header_valid()
    {
        var bytes = Written(Sample);

        BlockHeader.RewriteExpiry(bytes, 42);

        Assert.Equal(BlockStatus.Ok, BlockHeader.TryRead(bytes, out var read));
        Assert.Equal(Sample with { ExpiresUnixMs = 42 }, read);
    }

    [Fact]
    public void For_builds_length_and_checksum_of_the_payload()
    {
        var payload = TestData.RandomBytes(1000);

        var header = BlockHeader.For(payload, geometryFingerprint: 7, createdUnixMs: 100, expiresUnixMs: 200);

        Assert.Equal(new BlockHeader(7, 1000, BlockChecksum.Compute(payload), 100, 200), header);
    }

    [Theory]
    [InlineData(0, 1000, false)]
    [InlineData(0, long.MaxValue, false)]
    [InlineData(500, 499, false)]
    [InlineData(500, 500, true)]
    [InlineData(500, 501, true)]
    public void Expiry_zero_means_never_and_otherwise_now_at_or_past_it(long expires, long now, bool expired)
    {
        Assert.Equal(expired, (Sample with { ExpiresUnixMs = expires }).IsExpired(now));
    }
}
