using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>The geometry fingerprint: equal for equal layouts, different when any layout field differs.</summary>
public sealed class GeometryFingerprintTests
{
    private static readonly ModelGeometry Base = new("m", layers: 32, kvHeads: 8, headDim: 128, KvDType.Bf16, blockTokens: 16);

    public static TheoryData<string, ModelGeometry> OneFieldChanged => new()
    {
        { "layers", new ModelGeometry("m", 33, 8, 128, KvDType.Bf16, 16) },
        { "kvHeads", new ModelGeometry("m", 32, 4, 128, KvDType.Bf16, 16) },
        { "headDim", new ModelGeometry("m", 32, 8, 64, KvDType.Bf16, 16) },
        { "dtype fp16", new ModelGeometry("m", 32, 8, 128, KvDType.Fp16, 16) },
        { "dtype fp32", new ModelGeometry("m", 32, 8, 128, KvDType.Fp32, 16) },
        { "dtype fp8", new ModelGeometry("m", 32, 8, 128, KvDType.Fp8, 16) },
        { "blockTokens", new ModelGeometry("m", 32, 8, 128, KvDType.Bf16, 32) },
    };

    [Theory]
    [MemberData(nameof(OneFieldChanged))]
    public void Fingerprint_differs_when_a_field_differs(string field, ModelGeometry other)
    {
        Assert.False(Base.Fingerprint == other.Fingerprint, $"fingerprint unchanged when {field} changed");
    }

    [Fact]
    public void Fingerprint_is_equal_for_equal_fields()
    {
        var same = new ModelGeometry("m", 32, 8, 128, KvDType.Bf16, 16);

        Assert.Equal(Base.Fingerprint, same.Fingerprint);
        Assert.Equal(Base, same);
    }

    [Fact]
    public void Fingerprint_ignores_the_name()
    {
        var renamed = new ModelGeometry("meta-llama/Llama-3.1-8B", 32, 8, 128, KvDType.Bf16, 16);

        Assert.Equal(Base.Fingerprint, renamed.Fingerprint);
        Assert.Equal(ModelPreset.Get("llama-3.1-8b").Geometry.Fingerprint, renamed.Fingerprint);
    }

    [Fact]
    public void Presets_have_distinct_fingerprints()
    {
        var fingerprints = ModelPreset.All.Select(p => p.Geometry.Fingerprint).ToArray();

        Assert.Equal(fingerprints.Length, fingerprints.Distinct().Count());
    }

    [Fact]
    public void Fingerprint_is_stable_across_calls()
    {
        Assert.Equal(Base.Fingerprint, Base.Fingerprint);
        Assert.Equal(Base.Fingerprint, Base.WithBlockTokens(16).Fingerprint);
    }
}
