using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvTier.Cluster.DataPlane;
using KvTier.Cluster.Membership;
using KvTier.Cluster.Runtime;

namespace KvTier.Server;

/// <summary>
/// The cluster side of one sidecar, set once the node has joined: null parts mean a single node. Services read it per
/// call, so a node answers single-node until membership is up.
/// </summary>
public sealed class ClusterRuntime : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();

    /// <summary>This node as peers see it (known once the data plane is bound).</summary>
    public ClusterMember? Self { get; internal set; }

    /// <summary>How this node knows its peers ("static", "etcd" or "none").</summary>
    public string MembershipKind { get; internal set; } = "none";

    /// <summary>The runtime: placement, replication, remote lookup and fetch.</summary>
    public ClusterNode? Node { get; internal set; }

    /// <summary>The peer data plane this node serves.</summary>
    public PeerDataServer? DataServer { get; internal set; }

    /// <summary>
    /// A reused gRPC channel to another member (<c>http://host:port</c> or a bare <c>host:port</c>): probes, status and
    /// requests forwarded to a block's owner share one channel per member.
    /// </summary>
    public GrpcChannel ChannelTo(string grpcEndpoint) =>
        _channels.GetOrAdd(grpcEndpoint, e => GrpcChannel.ForAddress(e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e));

    /// <summary>
    /// Drops a channel whose call failed: a channel that failed to connect backs off before trying again, and a member
    /// that just came (back) up should be reached at once with a fresh one.
    /// </summary>
    public void Forget(string grpcEndpoint, GrpcChannel channel)
    {
        if (_channels.TryRemove(KeyValuePair.Create(grpcEndpoint, channel)))
        {
            channel.Dispose();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
