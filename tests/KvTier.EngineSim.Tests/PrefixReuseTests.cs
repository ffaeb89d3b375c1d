namespace KvTier.EngineSim.Tests;

/// <summary>
/// The point of the system: K/V of a cached prefix, copied block by block from a full run, let a prefill compute
/// the rest bit-identically, and attention really reads them.
/// </summary>
public sealed class PrefixReuseTests
{
    private const int Blocks = 8;

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(80)]
    [InlineData(112)]
    public void Prefill_after_cached_blocks_copied_from_a_full_run_gives_bit_identical_remaining_blocks(int cachedTokens)
    {
        var model = new ReferenceModel(Tiny.Preset, seed: 11);
        var tokens = Tiny.Prompt(Blocks * Tiny.BlockTokens);
        var full = Tiny.FullPrefill(model, tokens);

        var resumed = CacheHit(model, full, tokens, cachedTokens);

        for (var block = 0; block < Blocks; block++)
        {
            Assert.Equal(Tiny.Block(full, block), Tiny.Block(resumed, block));
        }
    }

    [Fact]
    public void Prefill_with_a_cached_prefix_in_a_fresh_model_instance_matches_the_full_run()
    {
        var tokens = Tiny.Prompt(Blocks * Tiny.BlockTokens);
        var full = Tiny.FullPrefill(new ReferenceModel(Tiny.Preset, seed: 11), tokens);

        var resumed = CacheHit(new ReferenceModel(Tiny.Preset, seed: 11), full, tokens, 80);

        Assert.Equal(Tiny.AllBytes(full), Tiny.AllBytes(resumed));
    }

    [Fact]
    public void Corrupting_one_float_of_a_cached_block_changes_the_kv_of_later_positions()
    {
        var model = new ReferenceModel(Tiny.Preset, seed: 11);
        var tokens = Tiny.Prompt(Blocks * Tiny.BlockTokens);
        var full = Tiny.FullPrefill(model, tokens);
        var resumed = model.CreateKvBuffer(tokens.Length);
        for (var block = 0; block < 5; block++)
        {
            var bytes = Tiny.Block(full, block);
            if (block == 2)
            {
                // Layer 0, K, token 3 of the block, kv head 0, element 5: later layers' K/V depend on it.
                var index = ((3 * resumed.TokenStride) + 5) * sizeof(float);
                var value = BitConverter.ToSingle(bytes, index);
                BitConverter.TryWriteBytes(bytes.AsSpan(index), value + 1.0f);
            }

            resumed.WriteBlock(block, bytes);
        }

        model.Prefill(tokens, 80, resumed);

        for (var token = 80; token < tokens.Length; token++)
        {
            Assert.NotEqual(Tiny.TokenBytes(full, token), Tiny.TokenBytes(resumed, token));
        }
    }

    [Fact]
    public void Attention_reads_cached_kv_rather_than_recomputing_the_prefix()
    {
        // With zeros in place of the cached prefix, the new positions come out different from the full run.
        var model = new ReferenceModel(Tiny.Preset, seed: 11);
        var tokens = Tiny.Prompt(Blocks * Tiny.BlockTokens);
        var full = Tiny.FullPrefill(model, tokens);
        var empty = model.CreateKvBuffer(tokens.Length);

        model.Prefill(tokens, 80, empty);

        Assert.NotEqual(Tiny.Block(full, 5), Tiny.Block(empty, 5));
        Assert.All(Tiny.Block(empty, 4), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Changing_token_100_leaves_earlier_positions_alone_and_changes_later_ones()
    {
        var model = new ReferenceModel(Tiny.Preset, seed: 5);
        var tokens = Tiny.Prompt(128);
        var changed = (int[])tokens.Clone();
        changed[100] = (tokens[100] + 1) % Tiny.Preset.Vocab;

        var original = Tiny.FullPrefill(model, tokens);
        var edited = Tiny.FullPrefill(model, changed);

        for (var token = 0; token < 100; token++)
        {
            Assert.Equal(Tiny.TokenBytes(original, token), Tiny.TokenBytes(edited, token));
        }

        for (var token = 100; token < tokens.Length; token++)
        {
            Assert.NotEqual(Tiny.TokenBytes(original, token), Tiny.TokenBytes(edited, token));
        }
    }

    private static KvBuffer CacheHit(ReferenceModel model, KvBuffer full, int[] tokens, int cachedTokens)
    {
        var resumed = model.CreateKvBuffer(tokens.Length);
        var bytes = new byte[full.BlockBytes];
        for (var block = 0; block < cachedTokens / Tiny.BlockTokens; block++)
        {
            full.ReadBlock(block, bytes);
            resumed.WriteBlock(block, bytes);
        }

        model.Prefill(tokens, cachedTokens, resumed);
        return resumed;
    }
}
