using System.Diagnostics;
using System.Net;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// The fetch side of the crossover benchmark, all in this process: a peer's <see cref="BlockStore"/> holding a fixed
/// set of blocks (filled once, before any timing), served by a real <see cref="PeerDataServer"/> on loopback, and a
/// <see cref="PeerDataClient"/> that fetches a prefix's blocks in one GET batch through a <see cref="LinkShaperProxy"/>
/// (none for <c>local</c>), copying each verified block into a preallocated destination, as an engine copies into its
/// pool. Prefixes longer than the set cycle through its keys: block i of a prefix is set block i mod set size.
/// </summary>
internal sealed class CrossoverFetcher : IAsyncDisposable
{
    private const string Tenant = "bench";

    private readonly BlockStore _store;
    private readonly PeerDataServer _server;
    private readonly LinkShaperProxy? _proxy;
    private readonly PeerDataClient _client;
    private readonly BlockKey[] _keys;
    private readonly Arena _destination;
    private readonly PeerBlockHandler _copy;

    private CrossoverFetcher(BlockStore store, PeerDataServer server, LinkShaperProxy? proxy, PeerDataClient client, BlockKey[] keys, Arena destination)
    {
        _store = store;
        _server = server;
        _proxy = proxy;
        _client = client;
        _keys = keys;
        _destination = destination;
        _copy = (index, _, payload) =>
        {
            payload.Span.CopyTo(_destination.Slot(index));
            return ValueTask.CompletedTask;
        };
    }

    /// <summary>Fills the store, starts the server, the link and the client, and opens the client's connection.</summary>
    public static async Task<CrossoverFetcher> StartAsync(CrossoverBenchOptions options, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var geometry = options.Geometry;
        var blockBytes = checked((int)geometry.BytesPerBlock);
        var setBlocks = options.SetBlocks;
        progress?.Report(new BenchProgress("fill the peer's store", 0));
        var store = new BlockStore(options.Store);
        PeerDataServer? server = null;
        LinkShaperProxy? proxy = null;
        PeerDataClient? client = null;
        try
        {
            var setKeys = new BlockKey[setBlocks];
            var payload = GC.AllocateUninitializedArray<byte>(blockBytes);
            new Random(1).NextBytes(payload);
            for (var i = 0; i < setBlocks; i++)
            {
                ct.ThrowIfCancellationRequested();
                setKeys[i] = BenchKeys.Of("crossover", 0, i);
                BitConverter.TryWriteBytes(payload, i); // distinct payloads
                var status = store.Put(Tenant, setKeys[i], payload, geometry.Fingerprint);
                if (status != BlockStatus.Ok)
                {
                    throw new InvalidOperationException($"filling the peer's store: block {i} of {setBlocks} was refused ({status}).");
                }

                if (i % 64 == 0)
                {
                    progress?.Report(new BenchProgress("fill the peer's store", (double)i / setBlocks));
                }
            }

            var keys = new BlockKey[options.BlocksFor(options.MaxTokens)];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = setKeys[i % setBlocks];
            }

            var destination = new Arena((int)Math.Clamp(options.DestinationBytes / blockBytes, 1, setBlocks), blockBytes, seed: 2);
            server = new PeerDataServer(new IPEndPoint(IPAddress.Loopback, 0), store,
                new PeerDataOptions { NodeId = "crossover-peer", MaxBlockBytes = Math.Max(blockBytes, 1 << 20) });
            proxy = options.Link.IsLocal ? null : new LinkShaperProxy(server.Endpoint, options.Link);
            client = new PeerDataClient(proxy?.Endpoint ?? server.Endpoint, new PeerDataClientOptions
            {
                NodeId = "crossover-engine",
                Connections = 1,
                MaxBlockBytes = Math.Max(blockBytes, 1 << 20),
                RequestTimeout = TimeSpan.FromSeconds(30),
            });
            await client.ConnectAsync(ct).ConfigureAwait(false);
            progress?.Report(new BenchProgress("fill the peer's store", 1));
            return new CrossoverFetcher(store, server, proxy, client, keys, destination);
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            proxy?.Dispose();
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            store.Dispose();
            throw;
        }
    }

    /// <summary>Fetches the first <paramref name="blocks"/> blocks of the prefix in one GET batch; returns the wall time.</summary>
    /// <exception cref="InvalidOperationException">A block was not delivered (the run cannot be timed honestly).</exception>
    public async Task<TimeSpan> FetchAsync(int blocks, CancellationToken ct)
    {
        var keys = new ArraySegment<BlockKey>(_keys, 0, blocks);
        var start = Stopwatch.GetTimestamp();
        var result = await _client.GetBatchAsync(Tenant, keys, _copy, ct).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (result.Found != blocks)
        {
            var missing = result.Statuses.Count(s => s != BlockStatus.Ok);
            throw new InvalidOperationException(
                $"a fetch of {blocks} blocks delivered {result.Found}: {missing} were not ok (first: {result.Statuses.First(s => s != BlockStatus.Ok)})"
                + (result.Failure is { } f ? $": {f.Message}" : "."));
        }

        return elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        _proxy?.Dispose();
        await _server.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
    }
}
