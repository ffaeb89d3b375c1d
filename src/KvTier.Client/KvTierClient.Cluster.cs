using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    /// <summary>The cluster as the server sees it: members, up or down, their blocks and bytes, replication counters.</summary>
    public async Task<Rpc.ClusterStatusResponse> ClusterStatusAsync(CancellationToken cancellationToken = default) =>
        await new Rpc.Cluster.ClusterClient(_channel).StatusAsync(new Rpc.ClusterStatusRequest(), _headers, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
}
