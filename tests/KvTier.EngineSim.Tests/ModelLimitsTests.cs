using KvTier.Core;

namespace KvTier.EngineSim.Tests;

/// <summary>What the reference model refuses, and the messages it refuses with.</summary>
public sealed class ModelLimitsTests
{
    [Fact]
    public void A_preset_over_the_weight_cap_is_refused_naming_the_preset_and_the_cap()
    {
        var error = Assert.Throws<ArgumentException>(() => new ReferenceModel(ModelPreset.Get("llama-3.1-70b")));

        Assert.Contains("llama-3.1-70b", error.Message, StringComparison.Ordinal);
        Assert.Contains("2GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("tiny", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lower_cap_refuses_even_tiny_and_names_that_cap()
    {
        var error = Assert.Throws<ArgumentException>(() => new ReferenceModel(Tiny.Preset, maxWeightBytes: 1 << 20));

        Assert.Contains("tiny", error.Message, StringComparison.Ordinal);
        Assert.Contains("1MiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tiny_weights_are_counted_from_its_shape()
    {
        // embedding 4096×128 + 4 layers × (2 norms·128 + Wq,Wo 128×128 + Wk,Wv 64×128 + 3 MLP 256×128), fp32.
        const long elements = (4096L * 128) + (4 * ((2 * 128) + (2 * 128 * 128) + (2 * 64 * 128) + (3 * 256 * 128)));

        Assert.Equal(elements * 4, ReferenceModel.WeightBytesOf(Tiny.Preset));
    }

    [Fact]
    public void Prefill_refuses_bad_input_with_clear_errors()
    {
        var model = new ReferenceModel(Tiny.Preset);
        var kv = model.CreateKvBuffer(16);

        Assert.Throws<ArgumentException>(() => model.Prefill(new int[17], 0, kv));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Prefill(new int[8], 9, kv));
        var outOfVocab = Assert.Throws<ArgumentOutOfRangeException>(() => model.Prefill([1, 4096], 0, kv));
        Assert.Contains("4096", outOfVocab.Message, StringComparison.Ordinal);
        var otherShape = new KvBuffer(new ModelGeometry("other", 2, 2, 32, KvDType.Fp32), 16);
        Assert.Throws<ArgumentException>(() => model.Prefill([1, 2], 0, otherShape));
    }

    [Fact]
    public void Measure_tokens_per_second_returns_a_positive_rate()
    {
        Assert.True(new ReferenceModel(Tiny.Preset).MeasureTokensPerSecond(32, TimeSpan.Zero) > 0);
    }
}
