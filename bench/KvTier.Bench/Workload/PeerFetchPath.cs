using System.Diagnostics;
using System.Net;
using KvTier.Cluster.DataPlane;
using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// A cross-node hit: the node's store served by a real peer data-plane server on loopback, fetched by a real
/// data-plane client through a <see cref="LinkShaperProxy"/> that holds the bytes to the link's rate and RTT.
/// </summary>
internal sealed class PeerFetchPath : IFetchPath
{
    private readonly PeerDataServer _server;
    private readonly LinkShaperProxy _proxy;
    private readonly PeerDataClient _client;
    private readonly Arena _destination;

    private PeerFetchPath(LinkSpec link, PeerDataServer server, LinkShaperProxy proxy, PeerDataClient client, int blockBytes)
    {
        Name = link.Text;
        _server = server;
        _proxy = proxy;
        _client = client;
        _destination = new Arena(64, blockBytes, seed: 13);
    }

    // The sidecar's namespace until API keys map callers to tenants; the harness separates tenants by cache salt.
    private const string SidecarTenant = "default";

    public FetchSource Source { get; } = FetchSource.Peer("workload-peer");

    public string Name { get; }

    public static async Task<PeerFetchPath> OpenAsync(LinkSpec link, WorkloadNode node, CancellationToken ct)
    {
        var server = new PeerDataServer(new IPEndPoint(IPAddress.Loopback, 0), node.Store, new PeerDataOptions { NodeId = "workload-peer", MaxBlockBytes = node.BlockBytes });
        var proxy = new LinkShaperProxy(server.Endpoint, link);
        var client = new PeerDataClient(proxy.Endpoint, new PeerDataClientOptions { Connections = 1, NodeId = "workload-engine" });
        await client.ConnectAsync(ct).ConfigureAwait(false);
        return new PeerFetchPath(link, server, proxy, client, node.BlockBytes);
    }

    public async Task<FetchOutcome> FetchAsync(BlockKey[] keys, int count, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var result = await _client.GetBatchAsync(SidecarTenant, new ArraySegment<BlockKey>(keys, 0, count), (index, _, payload) =>
        {
            payload.Span.CopyTo(_destination.Slot(index));
            return ValueTask.CompletedTask;
        }, ct).ConfigureAwait(false);
        return new FetchOutcome(watch.Elapsed.TotalMilliseconds, FetchOutcomes.LeadingRun(result.Statuses, s => s == BlockStatus.Ok));
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _proxy.DisposeAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
