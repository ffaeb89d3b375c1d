using System.Text.Json;

namespace KvTier.Cli.Tests;

/// <summary><c>--metrics</c> / <c>KvTier:Metrics</c> through the real binary: bound like every setting, bad values refused.</summary>
public sealed class MetricsFlagTests
{
    [Theory]
    [InlineData("nowhere")]
    [InlineData("metrics.example.com:9464")]
    public async Task Serve_with_a_metrics_value_that_is_not_a_bindable_address_exits_2_naming_the_flag(string value)
    {
        var result = await Kvtier.RunAsync("serve", "--listen", "127.0.0.1:0", "--metrics", value);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"KvTier:Metrics (--metrics): '{value}'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_print_shows_the_metrics_address_from_the_environment_and_the_flag_over_it()
    {
        var environment = new Dictionary<string, string?> { ["KVTIER__METRICS"] = "127.0.0.1:9464" };

        var fromEnvironment = await Kvtier.RunAsync(["config", "print"], environment);
        var fromFlag = await Kvtier.RunAsync(["config", "print", "--metrics", "*:9465"], environment);

        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.Equal("127.0.0.1:9464", JsonDocument.Parse(fromEnvironment.StdOut).RootElement.GetProperty("KvTier").GetProperty("Metrics").GetString());
        Assert.Equal("*:9465", JsonDocument.Parse(fromFlag.StdOut).RootElement.GetProperty("KvTier").GetProperty("Metrics").GetString());
    }
}
