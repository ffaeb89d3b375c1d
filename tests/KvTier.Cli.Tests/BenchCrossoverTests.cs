namespace KvTier.Cli.Tests;

/// <summary><c>kvtier bench crossover</c> parses its flags: bad ones are usage errors (exit 2) naming the value, before any run.</summary>
public sealed class BenchCrossoverTests
{
    [Fact]
    public async Task Bench_crossover_with_a_bad_link_exits_2_naming_the_value_and_the_accepted_forms()
    {
        var result = await Kvtier.RunAsync("bench", "crossover", "--link", "7furlongs");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("'7furlongs'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("25gbit", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("crossover", "--model")]
    [InlineData("workload", "--model")]
    [InlineData("workload", "--link")]
    public async Task Bench_refusals_read_as_one_sentence_for_people_without_the_parameter_name_dotnet_appends(string scenario, string flag)
    {
        var result = await Kvtier.RunAsync("bench", scenario, flag, "nope");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("'nope'", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", result.StdErr, StringComparison.Ordinal);
        Assert.EndsWith(".", result.StdErr.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_crossover_with_a_device_without_a_profile_exits_2_listing_the_profiles()
    {
        var result = await Kvtier.RunAsync("bench", "crossover", "--device", "tpu-v5");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("tpu-v5", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("llama-3.1-8b@h100-sxm", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_crossover_help_lists_its_flags()
    {
        var result = await Kvtier.RunAsync("bench", "crossover", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var flag in new[] { "--model", "--device", "--link", "--json", "--out", "--min-tokens", "--max-tokens", "--max-measured-tokens" })
        {
            Assert.Contains(flag, result.StdOut, StringComparison.Ordinal);
        }
    }
}
