using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// A cross-node hit: the node's store served over the peer data plane through a shaped link
/// (<see cref="ShapedPeerLink"/>), every block verified on receipt.
/// </summary>
internal sealed class PeerFetchPath : IFetchPath
{
    // The sidecar's namespace until API keys map callers to tenants; the harness separates tenants by cache salt.
    private const string SidecarTenant = "default";

    private readonly ShapedPeerLink _link;

    private PeerFetchPath(LinkSpec link, ShapedPeerLink shaped)
    {
        Name = link.Text;
        _link = shaped;
    }

    public FetchSource Source { get; } = FetchSource.Peer("workload-peer");

    public string Name { get; }

    public static async Task<PeerFetchPath> OpenAsync(LinkSpec link, WorkloadNode node, CancellationToken ct) =>
        new(link, await ShapedPeerLink.StartAsync(node.Store, link, node.BlockBytes, destinationSlots: 64, "workload", ct).ConfigureAwait(false));

    public async Task<FetchOutcome> FetchAsync(BlockKey[] keys, int from, int to, CancellationToken ct)
    {
        var (elapsed, result) = await _link.FetchAsync(SidecarTenant, new ArraySegment<BlockKey>(keys, from, to - from), ct).ConfigureAwait(false);
        return new FetchOutcome(elapsed.TotalMilliseconds, FetchOutcomes.LeadingRun(result.Statuses, s => s == BlockStatus.Ok));
    }

    public ValueTask DisposeAsync() => _link.DisposeAsync();
}
