using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>Size parsing and printing.</summary>
public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("256MiB", 256L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("100", 100L)]
    [InlineData("100B", 100L)]
    [InlineData("0", 0L)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("5MB", 5_000_000L)]
    [InlineData("3KB", 3_000L)]
    [InlineData(" 8 MiB ", 8L << 20)]
    public void Parse_accepts_binary_decimal_and_plain_sizes(string text, long expected)
    {
        Assert.Equal(expected, ByteSize.Parse(text));
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("256mib", 256L << 20)]
    [InlineData("256MIB", 256L << 20)]
    [InlineData("1gib", 1L << 30)]
    [InlineData("64kib", 64L << 10)]
    [InlineData("2gb", 2_000_000_000L)]
    public void Parse_ignores_case(string text, long expected)
    {
        Assert.Equal(expected, ByteSize.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("abc")]
    [InlineData("-1MiB")]
    [InlineData("12XB")]
    [InlineData("MiB")]
    [InlineData("1..5GiB")]
    [InlineData("NaN")]
    public void Parse_refuses_bad_input_naming_the_value(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e19")]
    [InlineData("9223372036854775808")] // long.MaxValue + 1
    [InlineData("8388608TiB")]          // exactly 2^63 bytes
    [InlineData("8EiB")]
    public void Parse_refuses_sizes_past_long_MaxValue(string text)
    {
        // Exposes a src bug (ByteSize.cs line 47): the check `value * factor > long.MaxValue` compares with
        // (double)long.MaxValue, which rounds up to 2^63, so exactly 2^63 passes and the (long) cast saturates:
        // the size is silently clamped to long.MaxValue instead of refused.
        Assert.False(ByteSize.TryParse(text, out var bytes), $"'{text}' parsed as {bytes}");
        Assert.Throws<FormatException>(() => ByteSize.Parse(text));
    }

    [Fact]
    public void TryParse_refuses_null()
    {
        Assert.False(ByteSize.TryParse(null, out var bytes));
        Assert.Equal(0, bytes);
    }

    [Theory]
    [InlineData(1L << 30, "1GiB")]
    [InlineData(3L << 29, "1.5GiB")]
    [InlineData(256L << 20, "256MiB")]
    [InlineData(64L << 10, "64KiB")]
    [InlineData(2L << 40, "2TiB")]
    [InlineData(1023L, "1023B")]
    [InlineData(0L, "0B")]
    public void Format_uses_the_largest_binary_unit_reached(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }

    [Theory]
    [InlineData(1L << 30)]
    [InlineData(256L << 20)]
    [InlineData(3L << 29)]
    [InlineData(1536L)]
    public void Format_then_Parse_round_trips_exact_sizes(long bytes)
    {
        Assert.Equal(bytes, ByteSize.Parse(ByteSize.Format(bytes)));
    }
}
