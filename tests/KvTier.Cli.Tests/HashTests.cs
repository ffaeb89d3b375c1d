using KvTier.Core;

namespace KvTier.Cli.Tests;

public sealed class HashTests
{
    [Fact]
    public async Task Hash_PrintsOneLowerCaseKeyPerFullBlock_EqualToBlockHasher()
    {
        var tokens = Enumerable.Range(100, 40).ToArray();

        var result = await Kvtier.RunAsync("hash", "--tokens", string.Join(',', tokens));

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = new BlockHasher("0").HashChain(tokens).Select(k => k.ToString()).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Matches("^[0-9a-f]{64}$", l));
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task Hash_WithSeedSaltLoraAndBlockSize_EqualsBlockHasher()
    {
        var tokens = Enumerable.Range(1, 20).ToArray();

        var result = await Kvtier.RunAsync("hash", "--tokens", string.Join(',', tokens), "--block-tokens", "8", "--seed", "42",
            "--salt", "tenant-a", "--lora", "adapter-1");

        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = new BlockHasher("42", 8).HashChain(tokens, lora: "adapter-1", salt: "tenant-a").Select(k => k.ToString());
        Assert.Equal(expected, result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Hash_FewerTokensThanABlock_PrintsNoKeys()
    {
        var result = await Kvtier.RunAsync("hash", "--tokens", "1,2,3");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Contains("no full block", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hash_ABadToken_Exits2NamingIt()
    {
        var result = await Kvtier.RunAsync("hash", "--tokens", "1,2,x7");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'x7'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoVerbOrUnknownFlag_Exits2()
    {
        var none = await Kvtier.RunAsync();
        var unknown = await Kvtier.RunAsync("hash", "--tokens", "1", "--bogus");

        Assert.Equal(2, none.ExitCode);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--bogus", unknown.StdErr, StringComparison.Ordinal);
    }
}
