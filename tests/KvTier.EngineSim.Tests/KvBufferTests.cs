using KvTier.Core;

namespace KvTier.EngineSim.Tests;

/// <summary>Block size, layout and round trip of <see cref="KvBuffer"/>.</summary>
public sealed class KvBufferTests
{
    [Fact]
    public void Block_bytes_equal_the_tiny_preset_bytes_per_block()
    {
        var kv = new ReferenceModel(Tiny.Preset).CreateKvBuffer(64);

        Assert.Equal(ModelPreset.Get("tiny").Geometry.BytesPerBlock, kv.BlockBytes);
        Assert.Equal(Tiny.Preset.Geometry, new ReferenceModel(Tiny.Preset).Geometry);
    }

    [Fact]
    public void Write_then_read_block_round_trips_the_bytes_and_touches_only_that_block()
    {
        var kv = new KvBuffer(Tiny.Preset.Geometry, 64);
        var block = new byte[kv.BlockBytes];
        new Random(1).NextBytes(block);

        kv.WriteBlock(2, block);

        Assert.Equal(block, Tiny.Block(kv, 2));
        foreach (var other in new[] { 0, 1, 3 })
        {
            Assert.All(Tiny.Block(kv, other), b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Read_block_lays_out_layer_then_k_then_v_then_token_kv_head_and_dim()
    {
        var g = Tiny.Preset.Geometry;
        var kv = new KvBuffer(g, 48);
        for (var layer = 0; layer < g.Layers; layer++)
        {
            var keys = kv.Keys(layer);
            var values = kv.Values(layer);
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = Code(layer, isValue: false, i);
                values[i] = Code(layer, isValue: true, i);
            }
        }

        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Tiny.Block(kv, 1));

        var perHalf = g.BlockTokens * g.KvHeads * g.HeadDim;
        var n = 0;
        for (var layer = 0; layer < g.Layers; layer++)
        {
            foreach (var isValue in new[] { false, true })
            {
                for (var i = 0; i < perHalf; i++)
                {
                    var element = (1 * perHalf) + i; // token-major: [token][kvHead][headDim] of block 1
                    Assert.Equal(Code(layer, isValue, element), floats[n++]);
                }
            }
        }

        Assert.Equal(floats.Length, n);
    }

    [Fact]
    public void Clear_zeroes_every_layer()
    {
        var model = new ReferenceModel(Tiny.Preset);
        var kv = Tiny.FullPrefill(model, Tiny.Prompt(32));

        kv.Clear();

        Assert.All(Tiny.AllBytes(kv), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Block_span_of_the_wrong_size_or_a_block_past_capacity_is_refused()
    {
        var kv = new KvBuffer(Tiny.Preset.Geometry, 40);

        Assert.Throws<ArgumentException>(() => kv.ReadBlock(0, new byte[kv.BlockBytes - 1]));
        Assert.Throws<ArgumentException>(() => kv.WriteBlock(0, new byte[kv.BlockBytes + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => kv.ReadBlock(2, new byte[kv.BlockBytes]));
    }

    [Fact]
    public void A_non_fp32_geometry_is_refused_naming_its_dtype()
    {
        var error = Assert.Throws<ArgumentException>(() => new KvBuffer(ModelPreset.Get("llama-3.2-1b").Geometry, 16));

        Assert.Contains("Bf16", error.Message, StringComparison.Ordinal);
    }

    private static float Code(int layer, bool isValue, int element) => (layer * 1_000_000) + (isValue ? 500_000 : 0) + element;
}
