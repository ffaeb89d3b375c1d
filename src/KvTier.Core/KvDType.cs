namespace KvTier.Core;

/// <summary>Element type of the KV cache.</summary>
public enum KvDType
{
    /// <summary>32-bit float.</summary>
    Fp32,
    /// <summary>IEEE half.</summary>
    Fp16,
    /// <summary>bfloat16 (most current models).</summary>
    Bf16,
    /// <summary>8-bit float (e4m3 / e5m2 KV quantisation).</summary>
    Fp8,
}

/// <summary>Helpers for <see cref="KvDType"/>.</summary>
public static class KvDTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this KvDType dtype) => dtype switch
    {
        KvDType.Fp32 => 4,
        KvDType.Fp16 or KvDType.Bf16 => 2,
        KvDType.Fp8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown KV dtype"),
    };

    /// <summary>Parses fp32, fp16, bf16 or fp8 (case-insensitive).</summary>
    public static KvDType Parse(string text) => text.ToLowerInvariant() switch
    {
        "fp32" or "float32" => KvDType.Fp32,
        "fp16" or "float16" or "half" => KvDType.Fp16,
        "bf16" or "bfloat16" => KvDType.Bf16,
        "fp8" or "float8" => KvDType.Fp8,
        _ => throw new FormatException($"'{text}' is not a KV dtype: use fp32, fp16, bf16 or fp8."),
    };
}
