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

    /// <summary>A reused gRPC channel to another member (for requests forwarded to a block's owner).</summary>
    public GrpcChannel ChannelTo(string grpcEndpoint) => _channels.GetOrAdd(grpcEndpoint, GrpcChannel.ForAddress);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
