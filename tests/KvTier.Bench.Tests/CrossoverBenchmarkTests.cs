using System.Text.Json;

namespace KvTier.Bench.Tests;

public sealed class CrossoverBenchmarkTests
{
    private static readonly string[] ContractFields =
        ["model", "device", "link", "crossover_tokens_measured", "crossover_tokens_predicted", "crossover_error", "recompute_source", "rows"];

    private static readonly string[] RowFields =
        ["tokens", "fetch_ms", "recompute_ms", "predicted_fetch_ms", "predicted_recompute_ms", "fetch_wins"];

    [Fact]
    public async Task A_small_run_fetches_every_power_of_two_and_its_crossover_lies_between_the_sign_change_rows()
    {
        // The tiny model's profile stands in for the recompute (no measured rows), so which side wins is decided by the
        // fetches alone. Over 500 Mbit/s with a 20 ms round trip a fetch takes about 21, 23, 28, 36 and 53 ms against a
        // recompute of 3, 6, 16, 44 and 139 ms: fetching loses up to 256 tokens and wins from 512 on, by 8 ms or more.
        var options = Small("500mbit:rtt=20ms", maxTokens: 1024, maxMeasuredTokens: 0);

        var result = await CrossoverBenchmark.RunAsync(options);

        Assert.Equal([64, 128, 256, 512, 1024], result.Rows.Select(r => r.Tokens));
        Assert.All(result.Rows, r => Assert.Equal("projected", r.RecomputeSource));
        Assert.Equal("projected", result.RecomputeSource);
        Assert.All(result.Rows, r => Assert.Equal(r.Tokens / 16, r.Blocks));
        // What the shaper guarantees whatever the machine's load: no fetch beats the link's round trip plus its bytes
        // at the line rate, less what bursts may carry early (the bucket's burst, and chunks sent together: 4 bursts). Which lengths win depends on measured times, so the test checks
        // only that the reported crossover agrees with the rows, not where it falls.
        var link = LinkSpec.Parse("500mbit:rtt=20ms");
        Assert.All(result.Rows, r =>
        {
            var floorMs = link.Rtt.TotalMilliseconds + (Math.Max(0, (r.Blocks * result.BlockBytes) - (4 * link.BurstBytes)) / link.BytesPerSecond * 1e3 * 0.9);
            Assert.True(r.TransferMs >= floorMs, $"{r.Tokens} tokens fetched in {r.TransferMs:0.00} ms, under the link's floor of {floorMs:0.00} ms");
            Assert.True(r.FetchMs >= r.TransferMs);
        });
        AssertCrossoverConsistent(result);
        Assert.NotNull(result.CrossoverTokensPredicted);
        if (result.CrossoverTokensMeasured is not null && !result.CrossoverBelowSweep)
        {
            Assert.NotNull(result.CrossoverError);
        }

        Assert.InRange(result.LinkRateFraction!.Value, 0, 1.1);
    }

    [Fact]
    public async Task A_small_run_on_the_cpu_measures_the_recompute_with_the_reference_engine_and_writes_the_contract()
    {
        var options = Small("local", maxTokens: 256, maxMeasuredTokens: 128);

        var result = await CrossoverBenchmark.RunAsync(options);

        Assert.Equal(["measured", "measured", "projected"], result.Rows.Select(r => r.RecomputeSource));
        Assert.Equal("measured+projected", result.RecomputeSource);
        Assert.All(result.Rows, r => Assert.True(r.RecomputeMs > 0 && r.EngineStepMs > 0 && r.TransferMs > 0));
        Assert.True(result.Rows[1].EngineStepMs < result.Rows[1].RecomputeMs, "one token after 128 cached cost more than prefilling 128");
        Assert.Null(result.LinkRateFraction);
        Assert.Contains("measured by KvTier", result.ProfileSource, StringComparison.Ordinal);
        AssertCrossoverConsistent(result);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in ContractFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"missing {field}");
        }

        foreach (var field in RowFields)
        {
            Assert.True(json.RootElement.GetProperty("rows")[0].TryGetProperty(field, out _), $"missing rows[].{field}");
        }

        var markdown = CrossoverBenchReport.Markdown(result);
        Assert.Contains("| 256 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Crossover, measured", markdown, StringComparison.Ordinal);
        Assert.Contains(result.ProfileSource, markdown, StringComparison.Ordinal);

        var dir = Directory.CreateTempSubdirectory("kvtier-crossover-");
        try
        {
            var png = Path.Combine(dir.FullName, CrossoverBenchReport.PlotFile);
            CrossoverBenchReport.Plot(result, png);
            var header = File.ReadAllBytes(png).Take(8).ToArray();
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { 10.0, 1.0, -1.0, -4.0 }, 181, false)]  // loses at 64-128, wins from 256: halfway, 2^7.5 tokens
    [InlineData(new[] { 3.0, 1.0, -3.0, -9.0 }, 152, false)]   // a quarter of the way from 128 to 256 in log2
    [InlineData(new[] { -1.0, 1.0, -1.0, -5.0 }, 181, false)]  // a win at 64 before a loss does not count
    [InlineData(new[] { -1.0, -2.0, -3.0, -4.0 }, 64, true)]   // wins everywhere: at or below the sweep
    [InlineData(new[] { 5.0, 4.0, 3.0, 1.0 }, null, false)]    // never wins
    public void The_measured_crossover_is_interpolated_in_log2_tokens_between_the_last_loss_and_the_first_win(
        double[] fetchMinusRecompute, int? expected, bool below)
    {
        var rows = fetchMinusRecompute.Select((gap, i) => new CrossoverRow
        {
            Tokens = 64 << i,
            FetchMs = 100 + gap,
            RecomputeMs = 100,
            FetchWins = gap < 0,
        }).ToArray();

        var (tokens, belowSweep) = CrossoverBenchmark.MeasuredCrossover(rows);

        Assert.Equal(expected, tokens);
        Assert.Equal(below, belowSweep);
    }

    [Theory]
    [InlineData(100, 65536, "powers of two")]
    [InlineData(64, 3000, "powers of two")]
    [InlineData(1024, 512, "min ≤ max")]
    public void A_bad_sweep_is_refused_naming_the_flags(int min, int max, string fix)
    {
        var options = new CrossoverBenchOptions { MinTokens = min, MaxTokens = max };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("--min-tokens", ex.Message, StringComparison.Ordinal);
        Assert.Contains(fix, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_without_a_profile_is_refused_listing_those_that_exist()
    {
        var ex = Assert.Throws<ArgumentException>(new CrossoverBenchOptions { Device = "tpu-v5" }.Validate);

        Assert.Contains("tpu-v5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("llama-3.1-8b@h100-sxm", ex.Message, StringComparison.Ordinal);
    }

    // The measured crossover must agree with the rows it came from.
    private static void AssertCrossoverConsistent(CrossoverBenchResult result)
    {
        var rows = result.Rows;
        Assert.All(rows, r => Assert.Equal(r.FetchMs < r.RecomputeMs, r.FetchWins));
        if (result.CrossoverTokensMeasured is not { } crossover)
        {
            Assert.False(rows[^1].FetchWins, "no crossover, yet fetching wins at the longest prefix");
            Assert.Null(result.CrossoverError);
            return;
        }

        var firstOfLastWins = rows.Count;
        while (firstOfLastWins > 0 && rows[firstOfLastWins - 1].FetchWins)
        {
            firstOfLastWins--;
        }

        if (result.CrossoverBelowSweep)
        {
            Assert.Equal(0, firstOfLastWins);
            Assert.Equal(rows[0].Tokens, crossover);
            Assert.Null(result.CrossoverError);
            return;
        }

        Assert.InRange(firstOfLastWins, 1, rows.Count - 1);
        Assert.False(rows[firstOfLastWins - 1].FetchWins);
        Assert.InRange(crossover, rows[firstOfLastWins - 1].Tokens, rows[firstOfLastWins].Tokens);
        if (result.CrossoverTokensPredicted is { } predicted)
        {
            Assert.Equal(Math.Abs(predicted - crossover) / (double)crossover, result.CrossoverError!.Value, 9);
        }
    }

    private static CrossoverBenchOptions Small(string link, int maxTokens, int maxMeasuredTokens) => new()
    {
        Model = "tiny",
        Device = "cpu-2core",
        Link = LinkSpec.Parse(link),
        MaxTokens = maxTokens,
        MaxMeasuredTokens = maxMeasuredTokens,
        StoreBytes = 64L << 20,
        DestinationBytes = 4L << 20,
        WarmUp = TimeSpan.FromMilliseconds(200),
    };
}
