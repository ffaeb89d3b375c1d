namespace KvTier.EngineSim.Tests;

/// <summary>The same tokens and seed give bit-identical K/V; another seed gives other K/V.</summary>
public sealed class DeterminismTests
{
    [Fact]
    public void Same_tokens_and_seed_in_two_model_instances_give_bit_identical_kv_for_all_layers()
    {
        var tokens = Tiny.Prompt(96);

        var first = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset, seed: 3), tokens);
        var second = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset, seed: 3), tokens);

        Assert.Equal(Tiny.AllBytes(first), Tiny.AllBytes(second));
    }

    [Fact]
    public void Prefilling_twice_with_one_instance_gives_bit_identical_kv()
    {
        var model = new ReferenceModel(Tiny.Preset, seed: 3);
        var tokens = Tiny.Prompt(64);

        var first = Tiny.FullPrefill(model, tokens);
        var second = Tiny.FullPrefill(model, tokens);

        Assert.Equal(Tiny.AllBytes(first), Tiny.AllBytes(second));
    }

    [Fact]
    public void Different_seeds_give_different_kv()
    {
        var tokens = Tiny.Prompt(32);

        var first = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset, seed: 1), tokens);
        var second = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset, seed: 2), tokens);

        Assert.NotEqual(Tiny.AllBytes(first), Tiny.AllBytes(second));
        for (var token = 0; token < tokens.Length; token++)
        {
            Assert.NotEqual(Tiny.TokenBytes(first, token), Tiny.TokenBytes(second, token));
        }
    }

    [Fact]
    public void Kv_values_are_finite_and_not_all_zero()
    {
        var kv = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset), Tiny.Prompt(128));

        for (var layer = 0; layer < kv.Geometry.Layers; layer++)
        {
            foreach (var values in new[] { kv.Keys(layer).ToArray(), kv.Values(layer).ToArray() })
            {
                Assert.All(values, value => Assert.True(float.IsFinite(value)));
                Assert.Contains(values, value => value != 0);
            }
        }
    }
}
