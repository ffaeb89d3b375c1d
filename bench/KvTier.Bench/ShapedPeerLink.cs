using System.Diagnostics;
using System.Net;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// A peer's store served by a real <see cref="PeerDataServer"/> on loopback and reached by a real
/// <see cref="PeerDataClient"/> (one connection) through a <see cref="LinkShaperProxy"/> that holds the bytes to the
/// link's rate and round trip (none for <c>local</c>). Every verified block is copied into a preallocated destination,
/// as an engine copies into its pool. The store stays the caller's.
/// </summary>
internal sealed class ShapedPeerLink : IAsyncDisposable
{
    private readonly PeerDataServer _server;
    private readonly LinkShaperProxy? _proxy;
    private readonly PeerDataClient _client;
    private readonly PeerBlockHandler _copy;

    private ShapedPeerLink(PeerDataServer server, LinkShaperProxy? proxy, PeerDataClient client, Arena destination)
    {
        _server = server;
        _proxy = proxy;
        _client = client;
        _copy = (index, _, payload) =>
        {
            payload.Span.CopyTo(destination.Slot(index));
            return ValueTask.CompletedTask;
        };
    }

    /// <summary>Starts the server over <paramref name="store"/>, the link and the client, and opens the connection.</summary>
    public static async Task<ShapedPeerLink> StartAsync(IBlockStore store, LinkSpec link, int blockBytes, int destinationSlots, string name, CancellationToken ct)
    {
        var maxBlock = Math.Max(blockBytes, 1 << 20);
        var server = new PeerDataServer(new IPEndPoint(IPAddress.Loopback, 0), store, new PeerDataOptions { NodeId = $"{name}-peer", MaxBlockBytes = maxBlock });
        LinkShaperProxy? proxy = null;
        PeerDataClient? client = null;
        try
        {
            proxy = link.IsLocal ? null : new LinkShaperProxy(server.Endpoint, link);
            client = new PeerDataClient(proxy?.Endpoint ?? server.Endpoint, new PeerDataClientOptions
            {
                NodeId = $"{name}-engine",
                Connections = 1,
                MaxBlockBytes = maxBlock,
                RequestTimeout = TimeSpan.FromSeconds(30),
            });
            await client.ConnectAsync(ct).ConfigureAwait(false);
            return new ShapedPeerLink(server, proxy, client, new Arena(destinationSlots, blockBytes, seed: 2));
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            proxy?.Dispose();
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Fetches <paramref name="keys"/> in one GET batch; returns the wall time and the per-block outcome.</summary>
    public async Task<(TimeSpan Elapsed, PeerBatchResult Result)> FetchAsync(string tenant, ArraySegment<BlockKey> keys, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await _client.GetBatchAsync(tenant, keys, _copy, ct).ConfigureAwait(false);
        return (Stopwatch.GetElapsedTime(start), result);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        _proxy?.Dispose();
        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
