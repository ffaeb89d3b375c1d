using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    /// <summary>The cluster as the server sees it: members, up or down, their blocks and bytes, replication counters.</summary>
    public async Task<Rpc.ClusterStatusResponse> ClusterStatusAsync(CancellationToken cancellationToken = default) =>
        await new Rpc.Cluster.ClusterClient(_channel).StatusAsync(new Rpc.ClusterStatusRequest(), _headers, cancellationToken: cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Reports a real prefill and/or fetch time so the server's fetch-vs-recompute model learns.</summary>
    public async Task<Rpc.TimingAck> ReportTimingAsync(Rpc.TimingReport report, CancellationToken cancellationToken = default) =>
        await _rpc.ReportTimingAsync(report, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
}
