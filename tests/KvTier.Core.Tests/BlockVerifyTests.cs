using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>BlockHeader.VerifyAndCopy over whole records (header + payload).</summary>
public sealed class BlockVerifyTests
{
    private const long Now = 1_700_000_000_000;

    private static byte[] Record(byte[] payload, long expires = 0)
    {
        var record = new byte[BlockHeader.Size + payload.Length];
        BlockHeader.For(payload, geometryFingerprint: 99, createdUnixMs: Now - 10, expires).WriteTo(record);
        payload.CopyTo(record, BlockHeader.Size);
        return record;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(65537)]
    [InlineData(3 << 20)]
    public void Ok_copies_the_payload_exactly(int size)
    {
        var payload = TestData.RandomBytes(size, seed: size);
        var destination = new byte[size];

        var status = BlockHeader.VerifyAndCopy(Record(payload), destination, Now, out var header);

        Assert.Equal(BlockStatus.Ok, status);
        Assert.Equal(size, header.PayloadLength);
        Assert.Equal(99UL, header.GeometryFingerprint);
        Assert.True(payload.AsSpan().SequenceEqual(destination), "payload bytes differ after copy");
    }

    [Fact]
    public void Larger_destination_gets_the_payload_at_its_start()
    {
        var payload = TestData.RandomBytes(70_000);
        var destination = new byte[80_000];

        Assert.Equal(BlockStatus.Ok, BlockHeader.VerifyAndCopy(Record(payload), destination, Now, out _));
        Assert.True(payload.AsSpan().SequenceEqual(destination.AsSpan(0, payload.Length)));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(100, 0)]
    [InlineData(100, 50)]
    [InlineData(100, 99)]
    [InlineData(200_000, 0)]
    [InlineData(200_000, 65536)]
    [InlineData(200_000, 100_000)]
    [InlineData(200_000, 199_999)]
    public void Flipped_payload_byte_is_corrupt(int size, int index)
    {
        var record = Record(TestData.RandomBytes(size));
        record[BlockHeader.Size + index] ^= 0x01;

        Assert.Equal(BlockStatus.Corrupt, BlockHeader.VerifyAndCopy(record, new byte[size], Now, out _));
    }

    [Theory]
    [InlineData(100, 99)]
    [InlineData(100, 101)]
    [InlineData(0, 1)]
    public void Record_length_disagreeing_with_the_payload_length_is_corrupt(int declared, int actual)
    {
        // A valid header for `declared` bytes in front of `actual` bytes of payload.
        var payload = TestData.RandomBytes(actual);
        var record = new byte[BlockHeader.Size + actual];
        new BlockHeader(99, declared, BlockChecksum.Compute(payload.AsSpan(0, Math.Min(declared, actual))), Now, 0).WriteTo(record);
        payload.CopyTo(record, BlockHeader.Size);

        Assert.Equal(BlockStatus.Corrupt, BlockHeader.VerifyAndCopy(record, new byte[1024], Now, out _));
    }

    [Fact]
    public void Truncated_record_is_corrupt()
    {
        var record = Record(TestData.RandomBytes(100));

        Assert.Equal(BlockStatus.Corrupt, BlockHeader.VerifyAndCopy(record.AsSpan(0, record.Length - 1), new byte[100], Now, out _));
        Assert.Equal(BlockStatus.Corrupt, BlockHeader.VerifyAndCopy(record.AsSpan(0, 10), new byte[100], Now, out _));
    }

    [Theory]
    [InlineData(Now)]
    [InlineData(Now - 1)]
    [InlineData(1)]
    public void Expired_when_expiry_is_at_or_before_now(long expires)
    {
        var record = Record(TestData.RandomBytes(100), expires);

        Assert.Equal(BlockStatus.Expired, BlockHeader.VerifyAndCopy(record, new byte[100], Now, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Now + 1)]
    public void Not_expired_when_expiry_is_never_or_later(long expires)
    {
        var record = Record(TestData.RandomBytes(100), expires);

        Assert.Equal(BlockStatus.Ok, BlockHeader.VerifyAndCopy(record, new byte[100], Now, out _));
    }

    [Fact]
    public void Small_destination_is_buffer_too_small()
    {
        var record = Record(TestData.RandomBytes(100));

        Assert.Equal(BlockStatus.BufferTooSmall, BlockHeader.VerifyAndCopy(record, new byte[99], Now, out var header));
        Assert.Equal(100, header.PayloadLength);
    }

    [Fact]
    public void Damaged_header_is_corrupt()
    {
        var record = Record(TestData.RandomBytes(100));
        record[20] ^= 0x10;

        Assert.Equal(BlockStatus.Corrupt, BlockHeader.VerifyAndCopy(record, new byte[100], Now, out _));
    }
}
