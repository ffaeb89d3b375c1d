using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace KvTier.Bench.Tests;

/// <summary>
/// The net benchmark against real child processes: two <c>dotnet kvtier.dll serve</c> sidecars (the dll sits next to
/// the tests) and redis-server (<c>make test</c> installs it).
/// </summary>
public sealed class NetBenchmarkTests
{
    private static readonly string[] ContractFields =
        ["peer_fetch_gbps", "grpc_get_gbps", "tcp_loopback_gbps", "redis_get_gbps", "fetch_p50_ms", "fetch_p99_ms", "peer_vs_tcp", "peer_vs_redis", "connections", "batch_keys", "blocks_in_flight"];

    [Fact]
    public async Task A_small_run_measures_every_path_writes_the_contract_json_and_leaves_no_child_behind()
    {
        var children = new ConcurrentBag<int>();
        var phases = new ConcurrentQueue<string>();
        var options = Small(children);

        var result = await NetBenchmark.RunAsync(options, new SyncProgress(p => phases.Enqueue(p.Phase)));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in ContractFields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out var value), $"missing {field}");
            Assert.True(value.GetDouble() > 0, $"{field} is {value.GetDouble()}, not positive");
        }

        Assert.Equal(32L << 10, result.BlockBytes);
        Assert.Equal(4, result.BlocksInFlight);
        Assert.Equal(["grpc_get", "peer_fetch", "redis_get", "tcp_loopback", "tcp_loopback_in_process"], result.CpuCores.Keys.Order());
        Assert.True(result.TcpLoopbackInProcessGbps > 0);
        Assert.InRange(result.FetchP50Ms, double.Epsilon, result.FetchP99Ms);
        Assert.Contains("measure", phases);
        Assert.Contains("| peer data plane GET", NetBenchReport.Markdown(result), StringComparison.Ordinal);

        Assert.Equal(4, children.Count); // two sidecars, redis-server and the socket baseline's server
        Assert.All(children, pid => Assert.True(IsGone(pid), $"child process {pid} is still running"));
    }

    [Fact]
    public async Task A_failure_after_the_sidecars_started_still_stops_every_child()
    {
        var children = new ConcurrentBag<int>();
        var options = Small(children);
        options.RedisServer = "/usr/bin/false"; // starts, then exits at once: redis never accepts a connection

        var ex = await Assert.ThrowsAsync<NetBenchException>(() => NetBenchmark.RunAsync(options));

        Assert.Contains("redis-server", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, children.Count);
        Assert.All(children, pid => Assert.True(IsGone(pid), $"child process {pid} is still running"));
    }

    [Fact]
    public async Task A_missing_redis_server_names_make_bench_and_starts_nothing()
    {
        var children = new ConcurrentBag<int>();
        var options = Small(children);
        options.RedisServer = "/nonexistent/redis-server";

        var ex = await Assert.ThrowsAsync<NetBenchException>(() => NetBenchmark.RunAsync(options));

        Assert.Contains("make bench", ex.Message, StringComparison.Ordinal);
        Assert.Empty(children);
    }

    [Fact]
    public void More_blocks_than_a_sidecar_holds_are_refused_with_the_fix()
    {
        var options = Small(new ConcurrentBag<int>());
        options.Model = "llama-3.1-8b";
        options.Blocks = 64; // 128 MiB of 2 MiB blocks in a 64 MiB sidecar

        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("--blocks", ex.Message, StringComparison.Ordinal);
    }

    // A few tiny blocks, one pass, no warm-up: seconds, not minutes.
    private static NetBenchOptions Small(ConcurrentBag<int> children) => new()
    {
        Sidecar = new NetSidecarCommand("dotnet", [Path.Combine(AppContext.BaseDirectory, "kvtier.dll")]),
        Model = "tiny",
        Blocks = 8,
        Connections = 2,
        BatchKeys = 2,
        Rounds = 1,
        Passes = 1,
        LatencySamples = 5,
        WarmUp = TimeSpan.Zero,
        SidecarMemory = "64MiB",
        ChildStarted = children.Add,
    };

    private static bool IsGone(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private sealed class SyncProgress(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }
}
