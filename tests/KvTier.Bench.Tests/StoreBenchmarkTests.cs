using System.Text.Json;

namespace KvTier.Bench.Tests;

public sealed class StoreBenchmarkTests
{
    [Fact]
    public void A_small_run_measures_every_field_and_writes_the_contract_json_names()
    {
        var options = new StoreBenchOptions { MemoryBytes = 48L << 20, Model = "tiny", ChainKeys = 128, Passes = 1, Lookups = 5 };
        var phases = new List<string>();

        var result = StoreBenchmark.Run(options, new SyncProgress(p => phases.Add(p.Phase)));

        Assert.True(result.PutGbps > 0 && result.GetGbps > 0 && result.MemcpyGbps > 0 && result.MemcpyReusedGbps > 0);
        Assert.Equal(32L << 10, result.BlockBytes); // tiny: 4 layers × 2 kv heads × 32 dim × fp32 × 2 × 16 tokens
        Assert.True(result.Blocks >= 8);
        Assert.InRange(result.LookupChainP50Us, double.Epsilon, result.LookupChainP99Us);
        Assert.Contains("lookup", phases);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in new[] { "put_gbps", "get_gbps", "memcpy_gbps", "block_bytes", "blocks", "lookup_chain_p50_us", "lookup_chain_p99_us" })
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"missing {field}");
        }

        var report = StoreBenchReport.Markdown(result);
        Assert.Contains("| store put |", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_store_too_small_for_the_model_is_refused_with_the_fix()
    {
        var ex = Assert.Throws<ArgumentException>(() => StoreBenchmark.Run(new StoreBenchOptions { MemoryBytes = 16L << 20 }));
        Assert.Contains("--memory", ex.Message, StringComparison.Ordinal);
    }

    // Progress<T> posts to the thread pool; the test wants the reports in order, on the calling thread.
    private sealed class SyncProgress(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }
}
