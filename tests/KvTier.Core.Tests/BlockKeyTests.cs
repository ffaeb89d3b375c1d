using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>BlockKey: hex parsing and printing, byte order, equality.</summary>
public sealed class BlockKeyTests
{
    private const string Hex = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

    [Fact]
    public void ToString_is_64_lower_case_hex_digits_in_digest_order()
    {
        var text = TestData.Parent.ToString();

        Assert.Equal(Hex, text);
        Assert.Equal(64, text.Length);
        Assert.Equal(text.ToLowerInvariant(), text);
    }

    [Fact]
    public void ParseHex_round_trips()
    {
        var key = BlockKey.ParseHex(Hex);

        Assert.Equal(TestData.Parent, key);
        Assert.Equal(Hex, key.ToString());
        Assert.Equal(TestData.ParentBytes, key.AsSpan().ToArray());
    }

    [Fact]
    public void Upper_case_hex_is_accepted()
    {
        Assert.Equal(TestData.Parent, BlockKey.ParseHex(Hex.ToUpperInvariant()));
        Assert.True(BlockKey.TryParseHex(Hex.ToUpperInvariant(), out var key));
        Assert.Equal(TestData.Parent, key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a0")]
    [InlineData("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe")] // 62 digits
    [InlineData("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0")] // 66 digits
    [InlineData("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0")] // 65 digits
    [InlineData("g0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf")] // non-hex first
    [InlineData("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebz")] // non-hex last
    [InlineData("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe f")] // space
    public void Bad_hex_is_refused_and_the_error_names_it(string bad)
    {
        Assert.False(BlockKey.TryParseHex(bad, out var key));
        Assert.Equal(default(BlockKey), key);

        var error = Assert.Throws<FormatException>(() => BlockKey.ParseHex(bad));
        Assert.Contains($"'{bad}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_requires_exactly_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => new BlockKey(new byte[31]));
        Assert.Throws<ArgumentException>(() => new BlockKey(new byte[33]));
        Assert.True(BlockKey.IsValidLength(new byte[32]));
        Assert.False(BlockKey.IsValidLength(new byte[31]));
    }

    [Fact]
    public void Equal_bytes_are_equal_keys_with_equal_hashes()
    {
        var a = new BlockKey(TestData.ParentBytes);
        var b = BlockKey.ParseHex(Hex);

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal(a.Hash64, b.Hash64);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(31)]
    public void A_key_differing_in_any_byte_is_not_equal(int index)
    {
        var bytes = TestData.ParentBytes.ToArray();
        bytes[index] ^= 0x01;
        var other = new BlockKey(bytes);

        Assert.NotEqual(TestData.Parent, other);
        Assert.True(TestData.Parent != other);
        Assert.False(TestData.Parent.Equals((object)other));
    }

    [Fact]
    public void Keys_work_as_dictionary_keys()
    {
        var map = new Dictionary<BlockKey, int> { [TestData.Parent] = 1 };

        Assert.True(map.ContainsKey(BlockKey.ParseHex(Hex)));
        Assert.False(map.ContainsKey(default));
    }

    [Fact]
    public void Not_equal_to_other_types()
    {
        Assert.False(TestData.Parent.Equals(Hex));
        Assert.False(TestData.Parent.Equals(null));
    }
}
