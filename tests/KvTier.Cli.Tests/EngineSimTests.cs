using System.Text.RegularExpressions;

namespace KvTier.Cli.Tests;

public sealed partial class EngineSimTests
{
    [Fact]
    public async Task Engine_sim_with_an_embedded_sidecar_verifies_every_onloaded_block()
    {
        var result = await Kvtier.RunAsync("engine-sim", "--embedded", "--preset", "tiny", "--requests", "20", "--verify");

        Assert.True(result.ExitCode == 0, result.ToString());
        var verified = VerifiedLine().Match(result.StdOut);
        Assert.True(verified.Success, result.ToString());
        // The small pool evicts, so later turns must come back from the tier: a run that onloads nothing proves nothing.
        Assert.True(int.Parse(verified.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, result.ToString());
    }

    [Fact]
    public async Task Engine_sim_refuses_a_preset_too_large_for_this_machine()
    {
        var result = await Kvtier.RunAsync("engine-sim", "--embedded", "--preset", "llama-3.1-70b", "--requests", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("tiny", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_sim_against_a_sidecar_that_is_not_there_exits_1_saying_so_without_a_crash()
    {
        // Port 1 (tcpmux) is privileged and unused: the connection is refused.
        var result = await Kvtier.RunAsync("engine-sim", "--server", "http://127.0.0.1:1", "--requests", "1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("could not reach http://127.0.0.1:1", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StdErr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^verified (\d+) blocks$", RegexOptions.Multiline)]
    private static partial Regex VerifiedLine();
}
