using KvTier.Cluster.Membership;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

/// <summary>Asks a member, by its gRPC endpoint, who it is (static membership's probe).</summary>
internal sealed class ClusterProbe(ClusterRuntime runtime)
{
    public async Task<ClusterMember> ProbeAsync(string endpoint, CancellationToken cancellationToken)
    {
        var info = await InfoAsync(runtime, endpoint, cancellationToken).ConfigureAwait(false);
        return new ClusterMember(info.NodeId, info.GrpcEndpoint, info.DataEndpoint, info.SeedFingerprint, (long)info.CapacityBytes);
    }

    /// <summary><c>Cluster/Info</c> of a member; a failed call drops the member's channel so the next one starts fresh.</summary>
    public static async Task<Rpc.NodeInfo> InfoAsync(ClusterRuntime runtime, string endpoint, CancellationToken cancellationToken)
    {
        var channel = runtime.ChannelTo(endpoint);
        try
        {
            return await new Rpc.Cluster.ClusterClient(channel).InfoAsync(new Rpc.InfoRequest(), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            runtime.Forget(endpoint, channel);
            throw;
        }
    }
}
