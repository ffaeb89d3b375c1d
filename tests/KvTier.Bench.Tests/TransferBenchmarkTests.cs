using System.Text.Json;
using KvTier.Transfer;

namespace KvTier.Bench.Tests;

public sealed class TransferBenchmarkTests
{
    [Theory]
    [InlineData(KvPoolLayout.VllmPaged)]
    [InlineData(KvPoolLayout.LayerMajor)]
    public void A_small_run_moves_every_block_both_ways_and_writes_the_contract_json_names(KvPoolLayout layout)
    {
        var options = new TransferBenchOptions { Model = "tiny", Layout = layout, PoolBlocks = 8, StagingBytes = 1L << 20, Passes = 1, PrefillTokens = 32,
            StoreBytes = 48L << 20, WarmUp = TimeSpan.Zero };

        var result = TransferBenchmark.Run(options);

        Assert.True(result.OffloadGbps > 0 && result.OnloadGbps > 0 && result.MemcpyGbps > 0 && result.PrefillTokensPerSecond > 0);
        Assert.Equal(32L << 10, result.BlockBytes);
        Assert.Null(result.PcieD2hGbps); // no GPU here: the PCIe fields are absent, not invented
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in new[] { "offload_gbps", "onload_gbps", "memcpy_gbps", "prefill_tokens_per_s" })
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"missing {field}");
        }
    }

    [Fact]
    public void Staging_smaller_than_two_blocks_is_refused_with_the_fix()
    {
        var ex = Assert.Throws<ArgumentException>(() => TransferBenchmark.Run(new TransferBenchOptions { StagingBytes = 2L << 20 }));
        Assert.Contains("--staging", ex.Message, StringComparison.Ordinal);
    }
}
