using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>KV dtype names.</summary>
public sealed class KvDTypeTests
{
    [Theory]
    [InlineData("fp32", KvDType.Fp32)]
    [InlineData("fp16", KvDType.Fp16)]
    [InlineData("bf16", KvDType.Bf16)]
    [InlineData("fp8", KvDType.Fp8)]
    [InlineData("BF16", KvDType.Bf16)]
    [InlineData("float32", KvDType.Fp32)]
    [InlineData("bfloat16", KvDType.Bf16)]
    public void Parse_accepts_the_known_names(string text, KvDType expected)
    {
        Assert.Equal(expected, KvDTypeExtensions.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("int8")]
    [InlineData("fp4")]
    [InlineData("bf 16")]
    public void Parse_refuses_others_naming_the_value(string text)
    {
        var error = Assert.Throws<FormatException>(() => KvDTypeExtensions.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }
}
