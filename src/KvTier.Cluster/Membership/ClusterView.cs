namespace KvTier.Cluster.Membership;

/// <summary>An immutable snapshot of who is in the cluster and who is reachable.</summary>
/// <param name="Self">This node.</param>
/// <param name="Members">Every known member including this node, sorted by node id.</param>
/// <param name="Down">Node ids of members that are known but not reachable now.</param>
/// <param name="Version">Increases with every change.</param>
public sealed record ClusterView(ClusterMember Self, IReadOnlyList<ClusterMember> Members, IReadOnlySet<string> Down, long Version)
{
    /// <summary>A view of this node alone.</summary>
    public static ClusterView Alone(ClusterMember self) => new(self, [self], new HashSet<string>(), 0);

    /// <summary>Members that are up (this node is always up to itself).</summary>
    public IReadOnlyList<ClusterMember> Live => Members.Where(m => !Down.Contains(m.NodeId)).ToArray();

    /// <summary>Live members other than this node.</summary>
    public IEnumerable<ClusterMember> LivePeers => Live.Where(m => m.NodeId != Self.NodeId);
}
