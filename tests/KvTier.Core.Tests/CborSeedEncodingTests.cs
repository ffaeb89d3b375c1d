using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>BlockHasher.EncodeSeed: the seed is a CBOR text string (major type 3), shortest length form.</summary>
public sealed class CborSeedEncodingTests
{
    [Fact]
    public void Seed_zero_is_a_one_byte_text_string()
    {
        Assert.Equal([0x61, 0x30], BlockHasher.EncodeSeed("0"));
    }

    [Fact]
    public void Empty_seed_is_an_empty_text_string()
    {
        Assert.Equal([0x60], BlockHasher.EncodeSeed(string.Empty));
    }

    [Fact]
    public void Seed_of_23_chars_keeps_its_length_inline()
    {
        var seed = new string('a', 23);
        byte[] expected = [0x77, .. Enumerable.Repeat((byte)'a', 23)];

        Assert.Equal(expected, BlockHasher.EncodeSeed(seed));
    }

    [Fact]
    public void Seed_of_24_chars_uses_a_one_byte_length()
    {
        var seed = "abcdefghijklmnopqrstuvwx";
        byte[] expected = [0x78, 0x18, .. "abcdefghijklmnopqrstuvwx"u8];

        Assert.Equal(expected, BlockHasher.EncodeSeed(seed));
    }

    [Fact]
    public void Seed_of_256_chars_uses_a_two_byte_length()
    {
        var seed = new string('z', 256);
        byte[] expected = [0x79, 0x01, 0x00, .. Enumerable.Repeat((byte)'z', 256)];

        Assert.Equal(expected, BlockHasher.EncodeSeed(seed));
    }
}
