using System.Buffers;
using KvTier.Client;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using StackExchange.Redis;

namespace KvTier.Bench;

/// <summary>Fetches blocks first .. first + count on connection <c>worker</c>; throws when any block did not arrive whole.</summary>
internal delegate Task NetFetch(int worker, int first, int count, CancellationToken ct);

/// <summary>
/// The ways of fetching the same blocks, each over the same number of connections with the same blocks requested
/// at once per connection. Every received block lands in memory reused from request to request.
/// </summary>
internal sealed class NetPaths(NetBlocks blocks, PeerDataClient peer, KvTierClient[] grpc, NetRedis redis, NetSocketBaseline socket,
    NetSocketBaseline inProcessSocket, int batchKeys)
{
    public const string TcpLoopback = "tcp_loopback";
    public const string TcpLoopbackInProcess = "tcp_loopback_in_process";
    public const string PeerFetch = "peer_fetch";
    public const string GrpcGet = "grpc_get";
    public const string RedisGet = "redis_get";

    /// <summary>The tenant gRPC puts without an API key land in (the server's default tenant).</summary>
    public const string Tenant = "default";

    private readonly NetReusedBuffer[][] _grpcBuffers = grpc.Select(_ => Enumerable.Range(0, batchKeys).Select(_ => new NetReusedBuffer(blocks.BlockBytes)).ToArray()).ToArray();
    private readonly RedisKey[] _redisKeys = Enumerable.Range(0, blocks.Count).Select(i => NetRedis.RedisKeyOf(blocks, i)).ToArray();

    /// <summary>The paths in report order, each named by its key in the result's per-path JSON objects.</summary>
    public IReadOnlyList<(string Name, NetFetch Fetch)> All =>
    [
        (TcpLoopback, (worker, first, count, ct) => socket.FetchAsync(worker, first, count, ct)),
        (TcpLoopbackInProcess, (worker, first, count, ct) => inProcessSocket.FetchAsync(worker, first, count, ct)),
        (PeerFetch, PeerAsync),
        (GrpcGet, GrpcAsync),
        (RedisGet, RedisAsync),
    ];

    /// <summary>One request of <paramref name="count"/> keys on one pooled data-plane connection; the client verifies each block.</summary>
    public async Task PeerAsync(int worker, int first, int count, CancellationToken ct)
    {
        var result = await peer.GetBatchAsync(Tenant, new ArraySegment<BlockKey>(blocks.Keys, first, count), Discard, ct).ConfigureAwait(false);
        if (result.Found != count)
        {
            var bad = result.Statuses.Select((s, i) => (s, i)).First(x => x.s != BlockStatus.Ok);
            throw new NetBenchException(
                $"the data plane returned {result.Found} of {count} blocks (block {first + bad.i}: {bad.s}){(result.Failure is { } f ? ": " + f.Message : "")}");
        }
    }

    /// <summary><paramref name="count"/> concurrent Get calls multiplexed on this worker's HTTP/2 connection.</summary>
    public Task GrpcAsync(int worker, int first, int count, CancellationToken ct)
    {
        var client = grpc[worker];
        var buffers = _grpcBuffers[worker];
        var calls = new Task[count];
        for (var j = 0; j < count; j++)
        {
            calls[j] = GetOneAsync(client, blocks.Keys[first + j], buffers[j], ct);
        }

        return Task.WhenAll(calls);

        static async Task GetOneAsync(KvTierClient client, BlockKey key, NetReusedBuffer buffer, CancellationToken ct)
        {
            buffer.Reset();
            if (!await client.GetAsync(key, buffer, ct).ConfigureAwait(false))
            {
                throw new NetBenchException($"gRPC Get did not find block {key} on node A");
            }
        }
    }

    /// <summary><paramref name="count"/> GETs pipelined on this worker's multiplexer (one socket).</summary>
    public async Task RedisAsync(int worker, int first, int count, CancellationToken ct)
    {
        var database = redis.Database(worker);
        var gets = new Task<Lease<byte>?>[count];
        for (var j = 0; j < count; j++)
        {
            gets[j] = database.StringGetLeaseAsync(_redisKeys[first + j]);
        }

        await Task.WhenAll(gets).ConfigureAwait(false);
        for (var j = 0; j < count; j++)
        {
            using var lease = await gets[j].ConfigureAwait(false);
            if (lease is null || lease.Length != blocks.BlockBytes)
            {
                throw new NetBenchException($"redis GET of block {first + j} returned {(lease is null ? "nothing" : $"{lease.Length} bytes")}");
            }
        }
    }

    private static ValueTask Discard(int index, BlockHeader header, ReadOnlyMemory<byte> payload) => ValueTask.CompletedTask;
}

/// <summary>One block-sized pinned buffer handed to a client as its destination, again and again.</summary>
internal sealed class NetReusedBuffer(int bytes) : IBufferWriter<byte>
{
    private byte[] _array = GC.AllocateArray<byte>(bytes, pinned: true);

    public int Written { get; private set; }

    public void Reset() => Written = 0;

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_array.Length - Written < sizeHint)
        {
            Array.Resize(ref _array, Written + sizeHint);
        }

        return _array.AsMemory(Written);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
