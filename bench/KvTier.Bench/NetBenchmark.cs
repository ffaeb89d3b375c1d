using System.Net;
using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;
using KvTier.Client;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using StackExchange.Redis;

namespace KvTier.Bench;

/// <summary>
/// <c>kvtier bench net</c>: two sidecar processes on loopback; the same blocks fetched from node A through the peer
/// data plane, through gRPC, from a local redis-server and over a plain socket, side by side in one run with the same
/// connections and the same blocks in flight; plus the latency of a one-block fetch through the data plane.
/// </summary>
public static class NetBenchmark
{
    private const int LatencyWarmUp = 20;

    /// <summary>Runs the benchmark; every child process is gone when it returns or throws.</summary>
    public static NetBenchResult Run(NetBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken ct = default) =>
        RunAsync(options, progress, ct).GetAwaiter().GetResult();

    /// <inheritdoc cref="Run"/>
    public static async Task<NetBenchResult> RunAsync(NetBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        try
        {
            return await RunCoreAsync(options, progress, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is RpcException or RedisException or PeerDataException)
        {
            throw new OperationCanceledException("the net benchmark was cancelled", e, ct);
        }
        catch (RpcException e)
        {
            throw new NetBenchException($"a gRPC call to a sidecar failed: {e.StatusCode} {e.Status.Detail}", e);
        }
        catch (Exception e) when (e is RedisException or PeerDataException)
        {
            throw new NetBenchException($"{(e is RedisException ? "redis" : "the peer data plane")} failed: {e.Message}", e);
        }
    }

    private static async Task<NetBenchResult> RunCoreAsync(NetBenchOptions options, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new BenchProgress("start sidecars + redis", 0));
        var ports = NetChildProcess.FreeLoopbackPorts(3);
        await using var redis = NetRedis.Start(options, ports[2]); // first: a missing redis-server starts nothing
        await using var socketServer = NetChildProcess.Start("socket server", options.Sidecar!.FileName, options.Sidecar.LeadingArguments.Concat(
            ["bench", "socket-server", "--blocks", Invariant(options.Blocks), "--block-bytes", Invariant(options.BlockBytes), "--seed", "1"]));
        options.ChildStarted?.Invoke(socketServer.Id);
        await using var cluster = NetCluster.Start(options, ports[0], ports[1]);
        // While the children boot (the sidecars preallocate their stores), fill and touch the source blocks.
        var blocks = new NetBlocks(options.Blocks, options.BlockBytes, seed: 1);
        await cluster.WaitUpAsync(options.StartTimeout, ct).ConfigureAwait(false);
        await redis.ConnectAsync(options.Connections, options.StartTimeout, ct).ConfigureAwait(false);
        progress?.Report(new BenchProgress("start sidecars + redis", 1));

        var grpc = Enumerable.Range(0, options.Connections).Select(_ => new KvTierClient(cluster.A)).ToArray();
        try
        {
            progress?.Report(new BenchProgress("fill node A (gRPC put)", 0));
            await cluster.FillAsync(grpc[0], blocks.Keys, blocks, options.Geometry.Fingerprint, options.StartTimeout, progress, ct).ConfigureAwait(false);
            progress?.Report(new BenchProgress("fill redis (SET)", 0));
            await redis.FillAsync(blocks, progress, ct).ConfigureAwait(false);

            var endpoint = await cluster.DataEndpointAsync(ct).ConfigureAwait(false);
            await using var peer = new PeerDataClient(endpoint, new PeerDataClientOptions { Connections = options.Connections, NodeId = "bench-net" });
            await peer.ConnectAsync(ct).ConfigureAwait(false);
            var socketEndpoint = await SocketServerEndpointAsync(socketServer, options, ct).ConfigureAwait(false);
            await using var socket = await NetSocketBaseline.ConnectAsync(socketEndpoint, options.BlockBytes, options.Connections, ct).ConfigureAwait(false);
            await using var inProcessServer = NetSocketServer.Start(blocks);
            await using var inProcessSocket = await NetSocketBaseline.ConnectAsync(inProcessServer.Endpoint, options.BlockBytes, options.Connections, ct)
                .ConfigureAwait(false);
            var paths = new NetPaths(blocks, peer, grpc, redis, socket, inProcessSocket, options.BatchKeys).All;

            var children = cluster.Nodes.Append(redis.Server).Append(socketServer).ToArray();
            if (options.WarmUp > TimeSpan.Zero)
            {
                for (var i = 0; i < paths.Count; i++)
                {
                    progress?.Report(new BenchProgress("warm-up", (double)i / paths.Count));
                    var warm = Stopwatch.StartNew();
                    do
                    {
                        await MeasureAsync(options, paths[i].Fetch, 1, children, ct).ConfigureAwait(false);
                    }
                    while (warm.Elapsed < options.WarmUp);
                }
            }

            var figures = paths.ToDictionary(p => p.Name, _ => new List<double>());
            var cpu = paths.ToDictionary(p => p.Name, _ => new CpuTally());
            for (var pass = 0; pass < options.Passes; pass++)
            {
                // Rotate the order, so no path always runs right after the same one.
                for (var i = 0; i < paths.Count; i++)
                {
                    progress?.Report(new BenchProgress("measure", (pass * paths.Count + i) / (double)(options.Passes * paths.Count)));
                    var (name, fetch) = paths[(i + pass) % paths.Count];
                    Quiesce();
                    var (gbps, used) = await MeasureAsync(options, fetch, options.Rounds, children, ct).ConfigureAwait(false);
                    figures[name].Add(gbps);
                    cpu[name].Add(used);
                }
            }

            var (p50, p99) = await MeasureLatencyAsync(peer, blocks, options, progress, ct).ConfigureAwait(false);
            progress?.Report(new BenchProgress("stop", 0));
            return new NetBenchResult
            {
                PeerFetchGbps = Throughput.Median(figures[NetPaths.PeerFetch]),
                GrpcGetGbps = Throughput.Median(figures[NetPaths.GrpcGet]),
                TcpLoopbackGbps = Throughput.Median(figures[NetPaths.TcpLoopback]),
                TcpLoopbackInProcessGbps = Throughput.Median(figures[NetPaths.TcpLoopbackInProcess]),
                RedisGetGbps = Throughput.Median(figures[NetPaths.RedisGet]),
                CpuCores = cpu.ToDictionary(c => c.Key, c => c.Value.Cores),
                PassGbps = figures.ToDictionary(f => f.Key, f => (IReadOnlyList<double>)f.Value),
                FetchP50Ms = p50,
                FetchP99Ms = p99,
                Connections = options.Connections,
                BatchKeys = options.BatchKeys,
                Model = options.Model,
                BlockBytes = options.BlockBytes,
                Blocks = options.Blocks,
                Rounds = options.Rounds,
                Passes = options.Passes,
                LatencySamples = options.LatencySamples,
            };
        }
        finally
        {
            foreach (var client in grpc)
            {
                client.Dispose();
            }
        }
    }

    // The socket server child prints "listening host:port" once its blocks are filled.
    private static async Task<IPEndPoint> SocketServerEndpointAsync(NetChildProcess server, NetBenchOptions options, CancellationToken ct)
    {
        var line = await server.FirstLineAsync(options.StartTimeout, ct).ConfigureAwait(false);
        return line.StartsWith("listening ", StringComparison.Ordinal) && IPEndPoint.TryParse(line["listening ".Length..], out var endpoint)
            ? endpoint
            : throw server.Failed($"printed \"{line}\" instead of \"listening host:port\"");
    }

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Every block `rounds` times: the batches go to whichever connection is free next. GB/s of payload, and the CPU
    // time this process and the children used meanwhile.
    private static async Task<(double Gbps, CpuUse Used)> MeasureAsync(NetBenchOptions options, NetFetch fetch, int rounds,
        IReadOnlyList<NetChildProcess> children, CancellationToken ct)
    {
        var batches = options.Batches * rounds;
        var next = -1;
        var before = CpuUse.Now(children);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Connections).Select(worker => Task.Run(async () =>
        {
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                var first = batch % options.Batches * options.BatchKeys;
                await fetch(worker, first, Math.Min(options.BatchKeys, options.Blocks - first), ct).ConfigureAwait(false);
            }
        }, ct))).ConfigureAwait(false);
        var elapsed = watch.Elapsed;
        var used = CpuUse.Now(children) - before;
        return (Throughput.GigabytesPerSecond((long)options.Blocks * rounds * options.BlockBytes, elapsed), used with { Wall = elapsed });
    }

    // One block per request, one request at a time, over a warm pooled connection.
    private static async Task<(double P50Ms, double P99Ms)> MeasureLatencyAsync(PeerDataClient peer, NetBlocks blocks, NetBenchOptions options,
        IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new BenchProgress("one-block fetch latency", 0));
        var histogram = new LongHistogram(TimeSpan.TicksPerMinute, 3);
        var warm = options.WarmUp > TimeSpan.Zero ? LatencyWarmUp : 0;
        var key = new BlockKey[1];
        for (var i = -warm; i < options.LatencySamples; i++)
        {
            key[0] = blocks.Keys[(i + warm) % blocks.Count];
            var start = Stopwatch.GetTimestamp();
            var result = await peer.GetBatchAsync(NetPaths.Tenant, key, static (_, _, _) => ValueTask.CompletedTask, ct).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (result.Found != 1)
            {
                throw new NetBenchException($"a one-block fetch of {key[0]} returned {result.Statuses[0]}{(result.Failure is { } f ? ": " + f.Message : "")}");
            }

            if (i >= 0)
            {
                histogram.RecordValue(Math.Max(1, elapsed.Ticks));
                if (i % 16 == 0)
                {
                    progress?.Report(new BenchProgress("one-block fetch latency", (double)i / options.LatencySamples));
                }
            }
        }

        static double Ms(long ticks) => ticks / (double)TimeSpan.TicksPerMillisecond;
        return (Ms(histogram.GetValueAtPercentile(50)), Ms(histogram.GetValueAtPercentile(99)));
    }

    // Garbage from the previous path (gRPC and redis allocate per call) is collected before, not during, the next one.
    private static void Quiesce()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        GC.WaitForPendingFinalizers();
    }

    // CPU time of this process and of the children, and the wall time it was measured over.
    private readonly record struct CpuUse(TimeSpan Self, TimeSpan Children, TimeSpan Wall)
    {
        public static CpuUse Now(IReadOnlyList<NetChildProcess> children)
        {
            using var self = Process.GetCurrentProcess();
            return new(self.TotalProcessorTime, children.Aggregate(TimeSpan.Zero, (sum, c) => sum + c.CpuTime), TimeSpan.Zero);
        }

        public static CpuUse operator -(CpuUse a, CpuUse b) => new(a.Self - b.Self, a.Children - b.Children, a.Wall - b.Wall);
    }

    private sealed class CpuTally
    {
        private CpuUse _sum;

        public NetCpuUse Cores => _sum.Wall <= TimeSpan.Zero
            ? new NetCpuUse()
            : new NetCpuUse { BenchProcess = _sum.Self / _sum.Wall, Servers = _sum.Children / _sum.Wall };

        public void Add(CpuUse used) => _sum = new CpuUse(_sum.Self + used.Self, _sum.Children + used.Children, _sum.Wall + used.Wall);
    }
}
