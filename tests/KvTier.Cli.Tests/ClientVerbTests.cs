using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using KvTier.Core;

namespace KvTier.Cli.Tests;

/// <summary>The client verbs against a real <c>kvtier serve</c> process.</summary>
[Collection(ServeCollection.Name)]
public sealed class ClientVerbTests(ServeFixture serve)
{
    [Fact]
    public void Serve_FirstLineHasTheUrlAndSecondAnExample()
    {
        Assert.StartsWith("kvtier listening on http://127.0.0.1:", serve.FirstLine, StringComparison.Ordinal);
        Assert.StartsWith("try: kvtier hash --tokens", serve.SecondLine, StringComparison.Ordinal);
        Assert.Contains(serve.Url, serve.SecondLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verb_using_https_against_a_plaintext_node_exits_1_suggesting_http()
    {
        var authority = new Uri(serve.Url).Authority;

        var result = await Kvtier.RunAsync("stats", "--server", $"https://{authority}");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"use http://{authority} instead", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("--ca-file", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnAnAddressInUse_Exits1NamingTheAddressAndTheFix()
    {
        var address = new Uri(serve.Url).Authority;

        var result = await Kvtier.RunAsync(["serve", "--listen", address, .. SmallStore]);

        AssertOneLineFailure(result, 1, $"{address}: address already in use", "pick another --listen");
    }

    [Fact]
    public async Task Serve_WithADataPortInUse_Exits1NamingDataListenWithoutACrash()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var data = $"127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var result = await ServeSmallAsync("--data-listen", data, "--peers", "127.0.0.1:1");

        AssertOneLineFailure(result, 1, $"KvTier:DataListen (--data-listen): could not bind {data}", "pick another --data-listen");
    }

    [Fact]
    public async Task Serve_WithAnEtcdNobodyAnswers_Exits1SayingWhatToDoWithoutACrash()
    {
        var result = await ServeSmallAsync("--etcd", "http://127.0.0.1:1", "--data-listen", "127.0.0.1:0");

        AssertOneLineFailure(result, 1, "kvtier: cannot reach etcd at http://127.0.0.1:1", "point --etcd at a running etcd");
    }

    [Fact]
    public async Task Serve_JoiningPeersOfAnotherHashSeed_Exits1RefusingToJoinWithoutACrash()
    {
        using var peer = await ServeProcess.StartAsync(["--listen", "127.0.0.1:0", "--data-listen", "127.0.0.1:0", "--node-id", "seed-a", "--hash-seed", "a", .. SmallStore]);

        var result = await ServeSmallAsync("--data-listen", "127.0.0.1:0", "--node-id", "seed-b", "--hash-seed", "b", "--peers", new Uri(peer.Url).Authority);

        AssertOneLineFailure(result, 1, "kvtier: refusing to join: node 'seed-a' has hash-seed fingerprint");
    }

    [Fact]
    public async Task Serve_WithABudgetNoMachineHolds_Exits2BeforeAllocating()
    {
        var result = await Kvtier.RunAsync("serve", "--listen", "127.0.0.1:0", "--memory", "1048576GiB"); // 1 PiB

        AssertOneLineFailure(result, 2, "KvTier:Memory (--memory): '1048576GiB' is not valid:", "this process may use");
        Assert.DoesNotContain("Preallocating", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OfAFileLargerThanAnyBlock_Exits2BeforeReadingIt()
    {
        var input = serve.PathFor("huge.bin");
        using (var file = File.Create(input))
        {
            file.SetLength(1L << 30); // sparse: 1 GiB of nothing on disk
        }

        var result = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", RandomKey(), "--in", input);

        AssertOneLineFailure(result, 2, $"holds {1L << 30} bytes: a block is at most", "split it into blocks");
    }

    [Fact]
    public async Task PutThenGet_RoundTripsTheFileByteForByte()
    {
        var key = RandomKey();
        var input = serve.PathFor("in.bin");
        var output = serve.PathFor("out.bin");
        var payload = new byte[1_500_000];
        Random.Shared.NextBytes(payload);
        await File.WriteAllBytesAsync(input, payload);

        var put = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", key, "--in", input);
        var get = await Kvtier.RunAsync("get", "--server", serve.Url, "--key", key, "--out", output);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(payload, await File.ReadAllBytesAsync(output));
    }

    [Fact]
    public async Task Get_OfAMissingKey_Exits3AndWritesNoFile()
    {
        var output = serve.PathFor("missing.bin");

        var result = await Kvtier.RunAsync("get", "--server", serve.Url, "--key", RandomKey(), "--out", output);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("is not cached", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Lookup_PrintsTheCountOfLeadingCachedKeys()
    {
        var hash = await Kvtier.RunAsync("hash", "--tokens", string.Join(',', Enumerable.Range(1, 48)), "--seed", Guid.NewGuid().ToString());
        var keys = hash.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var input = serve.PathFor("block.bin");
        await File.WriteAllBytesAsync(input, new byte[1000]);
        foreach (var key in keys.Take(2))
        {
            var put = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", key, "--in", input);
            Assert.True(put.ExitCode == 0, put.ToString());
        }

        var result = await Kvtier.RunAsync("lookup", "--server", serve.Url, "--keys", string.Join(',', keys));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("2", result.StdOut.Trim());
    }

    [Theory]
    [InlineData("get")]
    [InlineData("put")]
    [InlineData("lookup")]
    public async Task ABadHexKey_Exits2WithOneStderrLineNamingTheValue(string verb)
    {
        var input = serve.PathFor("any.bin");
        await File.WriteAllBytesAsync(input, [1]);
        string[] args = verb switch
        {
            "get" => ["get", "--server", serve.Url, "--key", "abc123", "--out", serve.PathFor("x")],
            "put" => ["put", "--server", serve.Url, "--key", "abc123", "--in", input],
            _ => ["lookup", "--server", serve.Url, "--keys", RandomKey() + ",abc123"],
        };

        var result = await Kvtier.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'abc123'", line, StringComparison.Ordinal);
        Assert.Contains("64 hex digits", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OfAMissingFile_Exits2NamingIt()
    {
        var missing = serve.PathFor("does-not-exist.bin");

        var result = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", RandomKey(), "--in", missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OverTheServersMaxBlock_Exits2WithTheServersMessage()
    {
        var input = serve.PathFor("big.bin");
        await File.WriteAllBytesAsync(input, new byte[(4 << 20) + 1]);

        var result = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", RandomKey(), "--in", input);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--max-block", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableServer_Exits1NamingTheUrl()
    {
        var url = $"http://127.0.0.1:{FreePort()}";

        var result = await Kvtier.RunAsync("get", "--server", url, "--key", RandomKey(), "--out", serve.PathFor("never.bin"));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"could not reach {url}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_Json_ParsesWithNumericCounters()
    {
        var result = await Kvtier.RunAsync("stats", "--server", serve.Url, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("puts").ValueKind);
        Assert.Equal(4L << 20, json.RootElement.GetProperty("max_block_bytes").GetInt64());
        Assert.Equal("cli-test", json.RootElement.GetProperty("node_id").GetString());
    }

    [Fact]
    public async Task Stats_Text_ListsTheCounters()
    {
        var result = await Kvtier.RunAsync("stats", "--server", serve.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.StdOut.Split('\n'), l => l.StartsWith("max_block_bytes", StringComparison.Ordinal) && l.Contains("4194304", StringComparison.Ordinal));
    }

    private static string RandomKey()
    {
        Span<byte> bytes = stackalloc byte[BlockKey.Size];
        Random.Shared.NextBytes(bytes);
        return new BlockKey(bytes).ToString();
    }

    // A port that was just free: nothing listens there while the test runs.
    private static readonly string[] SmallStore = ["--memory", "64MiB", "--max-block", "1MiB", "--staging", "1MiB"];

    private static Task<CliResult> ServeSmallAsync(params string[] flags) => Kvtier.RunAsync(["serve", "--listen", "127.0.0.1:0", .. SmallStore, .. flags]);

    /// <summary>A refusal as the CLI promises it: the exit code, the sentences that say why, and no stack dump.</summary>
    private static void AssertOneLineFailure(CliResult result, int exitCode, params string[] says)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        foreach (var text in says)
        {
            Assert.Contains(text, result.StdErr, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Unhandled exception", result.StdErr, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
