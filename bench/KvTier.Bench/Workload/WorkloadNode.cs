using System.Diagnostics;
using System.Globalization;
using KvTier.Client;
using KvTier.Core;
using KvTier.Policy;
using KvTier.Server;
using KvTier.Transfer;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Bench;

/// <summary>
/// The harness's sidecar and engine: a real <c>kvtier serve</c> in-process (Kestrel on a loopback port, FASTER store
/// with a bounded budget) and an engine that talks to it as engines do: Lookup over gRPC, Onload and Offload through
/// a registered KV pool in shared memory (vLLM-paged layout, standing in for VRAM). Tenants are kept apart by the
/// cache salt in the block hash (vLLM's cache_salt): one tenant's chain never matches another's. Recompute times come
/// from the prefill profile (a projection for a GPU, whose source the report states); fetch times are measured.
/// </summary>
internal sealed class WorkloadNode : IAsyncDisposable
{
    /// <summary>Slots in the engine's pool; a longer prefix cycles through them.</summary>
    public const int PoolBlocks = 256;

    private readonly KvTierServer _server;
    private readonly string _poolFile;

    private WorkloadNode(ModelGeometry geometry, PrefillProfile profile, bool layerwise, KvTierServer server, KvTierClient client, string poolId, string poolFile)
    {
        Layerwise = layerwise;
        Geometry = geometry;
        Profile = profile;
        BlockBytes = checked((int)geometry.BytesPerBlock);
        Hasher = new BlockHasher(server.Options.HashSeed, geometry.BlockTokens);
        _server = server;
        Client = client;
        PoolId = poolId;
        _poolFile = poolFile;
    }

    public ModelGeometry Geometry { get; }

    /// <summary>The engine overlaps fetching layer i+1 with computing layer i.</summary>
    public bool Layerwise { get; }

    public PrefillProfile Profile { get; }

    public int BlockBytes { get; }

    public BlockHasher Hasher { get; }

    /// <summary>The engine's client of its sidecar.</summary>
    public KvTierClient Client { get; }

    /// <summary>The engine's registered pool.</summary>
    public string PoolId { get; }

    /// <summary>The sidecar's store (a peer data-plane server serves it for the shaped-link runs).</summary>
    public KvTier.Store.IBlockStore Store => _server.Store;

    /// <summary>Tokens per block.</summary>
    public int BlockTokens => Geometry.BlockTokens;

    /// <summary>Starts the sidecar (it preallocates <paramref name="memoryBytes"/>) and registers the engine's pool.</summary>
    public static async Task<WorkloadNode> StartAsync(ModelGeometry geometry, PrefillProfile profile, long memoryBytes, bool layerwise, CancellationToken ct)
    {
        var server = await KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0",
            NodeId = "workload",
            Memory = memoryBytes.ToString(CultureInfo.InvariantCulture),
            MaxBlock = Math.Max(geometry.BytesPerBlock, 1 << 20).ToString(CultureInfo.InvariantCulture),
            Staging = Math.Max(64L << 20, 4 * geometry.BytesPerBlock).ToString(CultureInfo.InvariantCulture),
        }, ct: ct).ConfigureAwait(false);
        var spec = new KvPoolSpec(geometry, KvPoolLayout.VllmPaged, PoolBlocks);
        var poolFile = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"kvtier-workload-pool-{Environment.ProcessId}-{Guid.NewGuid():N}");
        SharedMemoryPool.Create(poolFile, spec.PoolBytes);
        using (var pool = new SharedMemoryPool(poolFile, spec.PoolBytes))
        {
            unsafe
            {
                // Touch the pool now: first-touch page faults belong to no fetch.
                new Span<byte>(pool.Pointer, checked((int)spec.PoolBytes)).Fill(1);
            }
        }

        var client = new KvTierClient(server.Address);
        var poolId = await client.RegisterPoolAsync(geometry, Rpc.PoolLayout.VllmPaged, PoolBlocks, poolFile, Environment.ProcessId, ct).ConfigureAwait(false);
        return new WorkloadNode(geometry, profile, layerwise, server, client, poolId, poolFile);
    }

    /// <summary>The chain of <paramref name="tokens"/> in <paramref name="tenant"/>'s namespace.</summary>
    public BlockKey[] Chain(string tenant, int[] tokens) => Hasher.HashChain(tokens, salt: tenant);

    /// <summary>
    /// The engine's true prefill time for <paramref name="tokens"/> new tokens after <paramref name="cached"/> cached
    /// ones. At least one token is always computed: the engine needs the last token's logits.
    /// </summary>
    public double RecomputeMs(int tokens, int cached) => Profile.RecomputeMs(Math.Max(1, tokens), cached);

    /// <summary>
    /// Time to first token of fetching for <paramref name="fetchMs"/> and prefilling for <paramref name="computeMs"/>:
    /// their sum, or with layer-wise overlap the longer stream plus one layer of the shorter (the planner's model).
    /// </summary>
    public double Combine(double fetchMs, double computeMs) => Layerwise
        ? Math.Max(fetchMs, computeMs) + (Math.Min(fetchMs, computeMs) / Geometry.Layers)
        : fetchMs + computeMs;

    /// <summary>Asks the sidecar how much of <paramref name="chain"/> is cached (a real Lookup RPC, timed).</summary>
    public async Task<(int Cached, double Ms)> LookupAsync(BlockKey[] chain, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var result = await Client.LookupAsync(chain, ct).ConfigureAwait(false);
        return (result.Prefix, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>Offloads blocks [from, to) of a chain from the engine's pool: what the engine computed.</summary>
    public async Task WriteAsync(BlockKey[] chain, int from, int to, CancellationToken ct)
    {
        for (var start = from; start < to; start += PoolBlocks)
        {
            var blocks = Enumerable.Range(start, Math.Min(PoolBlocks, to - start)).Select(i => (chain[i], i % PoolBlocks)).ToArray();
            var results = await Client.OffloadAsync(PoolId, blocks, cancellationToken: ct).ConfigureAwait(false);
            var bad = Array.FindIndex(results, r => r != Rpc.BlockResult.Ok);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"workload offload of block {start + bad} returned {results[bad]}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _server.DisposeAsync().ConfigureAwait(false);
        File.Delete(_poolFile);
    }
}
