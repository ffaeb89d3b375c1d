using KvTier.Cluster.Membership;
using Prometheus;

namespace KvTier.Server.Operations;

/// <summary>
/// <c>kvtier_peer_up</c>: one series per member of the current view (this node included), set on scrape; a member
/// that left the view loses its series. This node's series exists from the start (0 until the store is ready).
/// </summary>
internal sealed class PeerGauges
{
    private readonly Gauge _gauge;
    private readonly string _self;
    private readonly HashSet<string> _published = [];
    private readonly Lock _lock = new();

    public PeerGauges(Gauge gauge, string selfNodeId)
    {
        _gauge = gauge;
        _self = selfNodeId;
        _gauge.WithLabels(selfNodeId).Set(0);
        _published.Add(selfNodeId);
    }

    /// <summary>A node that is not in a cluster (or has not joined yet): only itself, up once it serves blocks.</summary>
    public void PublishAlone(bool up) => Publish([(_self, up)]);

    /// <summary>Every member of <paramref name="view"/>, up unless the view marks it down.</summary>
    public void Publish(ClusterView view) => Publish(view.Members.Select(m => (m.NodeId, !view.Down.Contains(m.NodeId))));

    private void Publish(IEnumerable<(string NodeId, bool Up)> members)
    {
        lock (_lock)
        {
            var seen = new HashSet<string>();
            foreach (var (id, up) in members)
            {
                _gauge.WithLabels(id).Set(up ? 1 : 0);
                seen.Add(id);
                _published.Add(id);
            }

            foreach (var gone in _published.Where(id => !seen.Contains(id)).ToArray())
            {
                _gauge.RemoveLabelled(gone);
                _published.Remove(gone);
            }
        }
    }
}
