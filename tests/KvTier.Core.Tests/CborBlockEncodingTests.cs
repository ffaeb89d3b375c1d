using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>
/// BlockHasher.EncodeBlock against bytes written by hand from RFC 8949 (§3.1 major types, §4.2.1 preferred
/// serialization): 0x83 = array(3); 0x58 0x20 = byte string, 1-byte length 32; 0x8n / 0x98 nn = array;
/// 0x6n / 0x78 nn = text string; 0xf6 = null; major type 0 integers in the shortest of 0..23 inline,
/// 0x18 + 1 byte, 0x19 + 2 bytes, 0x1a + 4 bytes (big-endian).
/// </summary>
public sealed class CborBlockEncodingTests
{
    // array(3), then the parent as a byte string: major type 2, additional info 24 (1-byte length), 32.
    private static readonly byte[] Head = [0x83, 0x58, 0x20, .. TestData.ParentBytes];

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(1, new byte[] { 0x01 })]
    [InlineData(10, new byte[] { 0x0a })]
    [InlineData(23, new byte[] { 0x17 })]
    [InlineData(24, new byte[] { 0x18, 0x18 })]
    [InlineData(255, new byte[] { 0x18, 0xff })]
    [InlineData(256, new byte[] { 0x19, 0x01, 0x00 })]
    [InlineData(65535, new byte[] { 0x19, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0x1a, 0x00, 0x01, 0x00, 0x00 })]
    [InlineData(1_000_000, new byte[] { 0x1a, 0x00, 0x0f, 0x42, 0x40 })]
    // Tokens are C# ints, so the 4-byte form's top (2^32-1 -> 0x1a ff ff ff ff) cannot be passed in;
    // the largest token that can is int.MaxValue = 2^31-1, still the 4-byte form.
    [InlineData(int.MaxValue, new byte[] { 0x1a, 0x7f, 0xff, 0xff, 0xff })]
    public void Token_uses_the_shortest_unsigned_integer_form(int token, byte[] encodedToken)
    {
        byte[] expected = [.. Head, 0x81, .. encodedToken, 0xf6];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [token], null, null));
    }

    [Fact]
    public void Two_tokens_either_side_of_the_inline_limit_with_no_extra()
    {
        byte[] expected = [0x83, 0x58, 0x20, .. TestData.ParentBytes, 0x82, 0x17, 0x18, 0x18, 0xf6];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [23, 24], null, null));
    }

    [Fact]
    public void Every_integer_width_in_one_block()
    {
        int[] tokens = [0, 23, 24, 255, 256, 65535, 65536, int.MaxValue];
        byte[] expected =
        [
            .. Head, 0x88,
            0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00, 0x19, 0xff, 0xff,
            0x1a, 0x00, 0x01, 0x00, 0x00, 0x1a, 0x7f, 0xff, 0xff, 0xff,
            0xf6,
        ];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, tokens, null, null));
    }

    [Fact]
    public void Sixteen_tokens_use_an_inline_array_length()
    {
        byte[] expected = [.. Head, 0x90, .. Enumerable.Range(0, 16).Select(i => (byte)i), 0xf6];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, TestData.Tokens(16), null, null));
    }

    [Fact]
    public void Twenty_four_tokens_use_a_one_byte_array_length()
    {
        // Tokens 0..23 each fit the initial byte; the array length 24 does not: 0x98 0x18.
        byte[] expected = [.. Head, 0x98, 0x18, .. Enumerable.Range(0, 24).Select(i => (byte)i), 0xf6];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, TestData.Tokens(24), null, null));
    }

    [Fact]
    public void No_tokens_is_an_empty_array()
    {
        byte[] expected = [.. Head, 0x80, 0xf6];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [], null, null));
    }

    [Fact]
    public void Lora_only_is_a_one_element_text_array()
    {
        // "ad" = text(2) 0x62 'a' 'd'.
        byte[] expected = [.. Head, 0x81, 0x01, 0x81, 0x62, 0x61, 0x64];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [1], "ad", null));
    }

    [Fact]
    public void Lora_then_salt_is_a_two_element_text_array_in_that_order()
    {
        // ["ad", "salt"]: 0x82, 0x62 'a' 'd', 0x64 's' 'a' 'l' 't'.
        byte[] expected = [.. Head, 0x81, 0x01, 0x82, 0x62, 0x61, 0x64, 0x64, 0x73, 0x61, 0x6c, 0x74];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [1], "ad", "salt"));
    }

    [Fact]
    public void Salt_without_lora_is_a_one_element_text_array()
    {
        byte[] expected = [.. Head, 0x81, 0x01, 0x81, 0x64, 0x73, 0x61, 0x6c, 0x74];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [1], null, "salt"));
    }

    [Fact]
    public void Text_length_counts_utf8_bytes_not_chars()
    {
        // "é" is one char, two UTF-8 bytes c3 a9: text(2).
        byte[] expected = [.. Head, 0x81, 0x01, 0x81, 0x62, 0xc3, 0xa9];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [1], "é", null));
    }

    [Fact]
    public void Lora_name_of_24_bytes_uses_a_one_byte_text_length()
    {
        var lora = new string('x', 24);
        byte[] expected = [.. Head, 0x81, 0x01, 0x81, 0x78, 0x18, .. Enumerable.Repeat((byte)'x', 24)];

        Assert.Equal(expected, BlockHasher.EncodeBlock(TestData.Parent, [1], lora, null));
    }

    [Fact]
    public void Negative_token_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockHasher.EncodeBlock(TestData.Parent, [5, -1], null, null));
    }
}
