using System.IO.Hashing;
using System.Text;

namespace KvTier.Cluster.Membership;

/// <summary>One node of the cluster as the others see it.</summary>
/// <param name="NodeId">Unique node name (default: the host name).</param>
/// <param name="GrpcEndpoint">The node's gRPC address, e.g. <c>http://10.0.0.5:50051</c>.</param>
/// <param name="DataEndpoint">The node's peer data plane, <c>host:port</c>.</param>
/// <param name="SeedFingerprint">Fingerprint of the node's hash seed; must equal the cluster's.</param>
/// <param name="CapacityBytes">The node's store budget.</param>
public sealed record ClusterMember(string NodeId, string GrpcEndpoint, string DataEndpoint, string SeedFingerprint, long CapacityBytes)
{
    /// <summary>A stable 64-bit hash of the node id (the rendezvous seed of this node).</summary>
    public ulong NodeHash { get; } = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(NodeId));
}
