using Grpc.Core;
using KvTier.Cluster.Membership;
using KvTier.Store;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

/// <summary><c>kvtier.v1.Cluster</c>: this node's identity (for peers) and the members as it sees them (for operators).</summary>
internal sealed class ClusterService(ClusterRuntime cluster, IBlockStore store, ServerOptions options) : Rpc.Cluster.ClusterBase
{
    public override Task<Rpc.NodeInfo> Info(Rpc.InfoRequest request, ServerCallContext context)
    {
        var self = cluster.Self ?? throw new RpcException(new Status(StatusCode.Unavailable, "this node is still starting: retry"));
        var stats = store.GetStats();
        var info = Describe(self);
        info.DramBlocks = (ulong)Math.Max(0, stats.DramBlocks);
        info.DramBytes = (ulong)Math.Max(0, stats.DramBytes);
        return Task.FromResult(info);
    }

    public override async Task<Rpc.ClusterStatusResponse> Status(Rpc.ClusterStatusRequest request, ServerCallContext context)
    {
        var response = new Rpc.ClusterStatusResponse
        {
            Cluster = options.Cluster,
            Membership = cluster.MembershipKind,
            Replicas = (uint)options.Replicas,
            WriteAck = options.WriteAck,
        };
        var self = cluster.Self ?? throw new RpcException(new Status(StatusCode.Unavailable, "this node is still starting: retry"));
        var view = cluster.Node?.View ?? ClusterView.Alone(self);
        // Ask every member for its counters in parallel; a member that does not answer is shown down.
        var members = await Task.WhenAll(view.Members.Select(async m =>
        {
            var status = new Rpc.MemberStatus { Node = Describe(m), Up = !view.Down.Contains(m.NodeId), Self = m.NodeId == self.NodeId };
            if (status.Self)
            {
                status.Node = await Info(new Rpc.InfoRequest(), context).ConfigureAwait(false);
                return status;
            }

            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                deadline.CancelAfter(TimeSpan.FromSeconds(2));
                status.Node = await ClusterProbe.InfoAsync(cluster, m.GrpcEndpoint, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException or HttpRequestException)
            {
                status.Up = false;
            }

            return status;
        })).ConfigureAwait(false);
        response.Members.AddRange(members);

        if (cluster.Node is { } node)
        {
            response.ReplicationQueue = (ulong)node.ReplicationQueue;
            response.ReplicatedBlocks = (ulong)node.Replicated;
            response.ReplicationFailures = (ulong)node.ReplicationFailures;
            response.RemoteFetches = (ulong)node.RemoteFetches;
            response.RemoteFetchMisses = (ulong)node.RemoteFetchMisses;
            response.HedgedFetches = (ulong)node.HedgedFetches;
        }

        return response;
    }

    private Rpc.NodeInfo Describe(ClusterMember m) => new()
    {
        NodeId = m.NodeId,
        Cluster = options.Cluster,
        GrpcEndpoint = m.GrpcEndpoint,
        DataEndpoint = m.DataEndpoint,
        SeedFingerprint = m.SeedFingerprint,
        CapacityBytes = (ulong)m.CapacityBytes,
    };
}
