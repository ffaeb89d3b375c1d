using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvTier.Cluster.Membership;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

/// <summary>Asks a member, by its gRPC endpoint, who it is (static membership's probe).</summary>
internal sealed class ClusterProbe : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();

    public async Task<ClusterMember> ProbeAsync(string endpoint, CancellationToken cancellationToken)
    {
        var channel = _channels.GetOrAdd(endpoint, e => GrpcChannel.ForAddress(e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e));
        try
        {
            var info = await new Rpc.Cluster.ClusterClient(channel).InfoAsync(new Rpc.InfoRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ClusterMember(info.NodeId, info.GrpcEndpoint, info.DataEndpoint, info.SeedFingerprint, (long)info.CapacityBytes);
        }
        catch
        {
            // A channel that failed to connect backs off before trying again; a member that just came up should be seen
            // at the next probe, so start over with a fresh channel.
            if (_channels.TryRemove(KeyValuePair.Create(endpoint, channel)))
            {
                channel.Dispose();
            }

            throw;
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
