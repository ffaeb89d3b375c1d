using System.IO.Hashing;
using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>The chunked copy-and-hash equals the one-shot hash, across the 64 KiB chunk boundary.</summary>
public sealed class BlockChecksumTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(65537)]
    [InlineData(131071)]
    [InlineData(131072)]
    [InlineData(131073)]
    [InlineData(1_000_003)]
    public void CopyAndCompute_equals_Compute_and_copies(int size)
    {
        var source = TestData.RandomBytes(size, seed: size + 1);
        var destination = new byte[size + 16];

        var checksum = BlockChecksum.CopyAndCompute(source, destination);

        Assert.Equal(BlockChecksum.Compute(source), checksum);
        Assert.Equal(XxHash3.HashToUInt64(source), checksum);
        Assert.True(source.AsSpan().SequenceEqual(destination.AsSpan(0, size)), "copy differs");
        Assert.True(destination.AsSpan(size).IndexOfAnyExcept((byte)0) < 0, "wrote past the source length");
    }

    [Fact]
    public void Repeated_large_calls_do_not_carry_state()
    {
        var a = TestData.RandomBytes(200_000, seed: 1);
        var b = TestData.RandomBytes(150_000, seed: 2);
        var destination = new byte[200_000];

        var first = BlockChecksum.CopyAndCompute(a, destination);
        var second = BlockChecksum.CopyAndCompute(b, destination);
        var again = BlockChecksum.CopyAndCompute(a, destination);

        Assert.Equal(BlockChecksum.Compute(a), first);
        Assert.Equal(BlockChecksum.Compute(b), second);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Different_payloads_have_different_checksums()
    {
        var a = TestData.RandomBytes(4096);
        var b = a.ToArray();
        b[4095] ^= 1;

        Assert.NotEqual(BlockChecksum.Compute(a), BlockChecksum.Compute(b));
    }
}
