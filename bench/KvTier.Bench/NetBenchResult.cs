using System.Text.Json.Serialization;

namespace KvTier.Bench;

/// <summary>What <c>kvtier bench net</c> measured. JSON names are a contract (see the net benchmark issue).</summary>
public sealed record NetBenchResult
{
    /// <summary>Batched GETs through node A's peer data plane (framed protocol, checksums verified, payload not stored).</summary>
    [JsonPropertyName("peer_fetch_gbps")] public double PeerFetchGbps { get; init; }
    /// <summary>The same blocks through node A's gRPC Get (KvTierClient, verified).</summary>
    [JsonPropertyName("grpc_get_gbps")] public double GrpcGetGbps { get; init; }
    /// <summary>
    /// A plain loopback socket copy of the same bytes in the same request pattern (the ceiling), from a server process
    /// of its own to this one, as the data plane's bytes go from node A's process to this one.
    /// </summary>
    [JsonPropertyName("tcp_loopback_gbps")] public double TcpLoopbackGbps { get; init; }
    /// <summary>The same socket copy with its server inside this process (no second process to schedule).</summary>
    [JsonPropertyName("tcp_loopback_in_process_gbps")] public double TcpLoopbackInProcessGbps { get; init; }
    /// <summary>The same blocks GET from a local redis-server (StackExchange.Redis, one multiplexer per connection).</summary>
    [JsonPropertyName("redis_get_gbps")] public double RedisGetGbps { get; init; }
    /// <summary>Latency of fetching one block through the data plane, median.</summary>
    [JsonPropertyName("fetch_p50_ms")] public double FetchP50Ms { get; init; }
    /// <summary>Latency of fetching one block through the data plane, 99th percentile.</summary>
    [JsonPropertyName("fetch_p99_ms")] public double FetchP99Ms { get; init; }
    [JsonPropertyName("peer_vs_tcp")] public double PeerVsTcp => PeerFetchGbps / TcpLoopbackGbps;
    [JsonPropertyName("peer_vs_redis")] public double PeerVsRedis => PeerFetchGbps / RedisGetGbps;
    [JsonPropertyName("peer_vs_grpc")] public double PeerVsGrpc => PeerFetchGbps / GrpcGetGbps;
    /// <summary>Connections every path used at once.</summary>
    [JsonPropertyName("connections")] public int Connections { get; init; }
    /// <summary>Blocks requested at once per connection (keys per data-plane request; concurrent calls for gRPC and redis).</summary>
    [JsonPropertyName("batch_keys")] public int BatchKeys { get; init; }
    /// <summary>Blocks in flight in all: connections × batch.</summary>
    [JsonPropertyName("blocks_in_flight")] public int BlocksInFlight => Connections * BatchKeys;
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("block_bytes")] public long BlockBytes { get; init; }
    /// <summary>Distinct blocks each path fetched per pass.</summary>
    [JsonPropertyName("blocks")] public int Blocks { get; init; }
    /// <summary>Times each pass fetched every block.</summary>
    [JsonPropertyName("rounds")] public int Rounds { get; init; }
    /// <summary>Bytes each path moved per pass.</summary>
    [JsonPropertyName("bytes_per_pass")] public long BytesPerPass => BlockBytes * Blocks * Rounds;
    [JsonPropertyName("passes")] public int Passes { get; init; }
    [JsonPropertyName("latency_samples")] public int LatencySamples { get; init; }
    /// <summary>
    /// Cores busy while each path ran (CPU time over wall time, all passes), keyed like the figures: peer_fetch,
    /// grpc_get, tcp_loopback, redis_get. On a machine with few cores this says whether a path was CPU-bound.
    /// </summary>
    [JsonPropertyName("cpu_cores")] public IReadOnlyDictionary<string, NetCpuUse> CpuCores { get; init; } = new Dictionary<string, NetCpuUse>();
    /// <summary>
    /// Every pass's GB/s, keyed like <see cref="CpuCores"/>, in pass order: the spread shows how noisy the machine was,
    /// and a path's pass i ran next to the other paths' pass i.
    /// </summary>
    [JsonPropertyName("pass_gbps")] public IReadOnlyDictionary<string, IReadOnlyList<double>> PassGbps { get; init; } = new Dictionary<string, IReadOnlyList<double>>();
}

/// <summary>Cores busy during one path's measurements, split by process.</summary>
public sealed record NetCpuUse
{
    /// <summary>This process: the clients (and the socket baseline's server, which runs in-process).</summary>
    [JsonPropertyName("bench_process")] public double BenchProcess { get; init; }
    /// <summary>The child processes: both sidecars and redis-server.</summary>
    [JsonPropertyName("servers")] public double Servers { get; init; }
    [JsonPropertyName("total")] public double Total => BenchProcess + Servers;
}
