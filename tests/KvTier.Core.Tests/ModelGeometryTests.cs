using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>KV bytes per token and per block, from each model's published shape: 2 (K and V) × layers × kv heads × head dim × dtype bytes.</summary>
public sealed class ModelGeometryTests
{
    [Theory]
    [InlineData("llama-3.1-8b", 131072L)]  // 2 × 32 × 8 × 128 × 2 (bf16)
    [InlineData("llama-3.2-1b", 32768L)]   // 2 × 16 × 8 × 64 × 2
    [InlineData("llama-3.1-70b", 327680L)] // 2 × 80 × 8 × 128 × 2
    [InlineData("qwen2.5-7b", 57344L)]     // 2 × 28 × 4 × 128 × 2
    [InlineData("tiny", 2048L)]            // 2 × 4 × 2 × 32 × 4 (fp32)
    public void Bytes_per_token_and_per_16_token_block_match_the_published_shape(string preset, long bytesPerToken)
    {
        var geometry = ModelPreset.Get(preset).Geometry;

        Assert.Equal(16, geometry.BlockTokens);
        Assert.Equal(bytesPerToken, geometry.BytesPerToken);
        Assert.Equal(bytesPerToken * 16, geometry.BytesPerBlock);
    }

    [Fact]
    public void Every_preset_is_covered_by_the_shape_table()
    {
        // Adding a preset must add a row to the theory above.
        string[] covered = ["llama-3.1-8b", "llama-3.2-1b", "llama-3.1-70b", "qwen2.5-7b", "tiny"];

        Assert.Equal(covered.Order(StringComparer.Ordinal), ModelPreset.All.Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Llama_8b_block_is_two_mebibytes()
    {
        Assert.Equal(2L << 20, ModelPreset.Get("llama-3.1-8b").Geometry.BytesPerBlock);
    }

    [Fact]
    public void Block_size_scales_block_bytes_only()
    {
        var g = ModelPreset.Get("llama-3.1-8b").Geometry.WithBlockTokens(32);

        Assert.Equal(32, g.BlockTokens);
        Assert.Equal(131072L, g.BytesPerToken);
        Assert.Equal(4L << 20, g.BytesPerBlock);
    }

    [Theory]
    [InlineData(KvDType.Fp32, 4)]
    [InlineData(KvDType.Fp16, 2)]
    [InlineData(KvDType.Bf16, 2)]
    [InlineData(KvDType.Fp8, 1)]
    public void Dtype_width_enters_the_token_size(KvDType dtype, int elementBytes)
    {
        var g = new ModelGeometry("m", layers: 2, kvHeads: 3, headDim: 5, dtype);

        Assert.Equal(elementBytes, dtype.Size());
        Assert.Equal(3L * 5 * elementBytes, g.BytesPerTokenPerLayerHalf);
        Assert.Equal(2L * 2 * 3 * 5 * elementBytes, g.BytesPerToken);
    }

    [Theory]
    [InlineData(0, 8, 128, 16)]
    [InlineData(32, 0, 128, 16)]
    [InlineData(32, 8, 0, 16)]
    [InlineData(32, 8, 128, 0)]
    [InlineData(-1, 8, 128, 16)]
    public void Non_positive_dimensions_are_refused(int layers, int kvHeads, int headDim, int blockTokens)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelGeometry("m", layers, kvHeads, headDim, KvDType.Bf16, blockTokens));
    }
}
