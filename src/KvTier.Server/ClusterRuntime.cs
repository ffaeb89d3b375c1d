using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
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
    private bool _peerTls;
    private X509Certificate2Collection? _peerAnchors;

    /// <summary>This node as peers see it (known once the data plane is bound).</summary>
    public ClusterMember? Self { get; internal set; }

    /// <summary>How this node knows its peers ("static", "etcd" or "none").</summary>
    public string MembershipKind { get; internal set; } = "none";

    /// <summary>The runtime: placement, replication, remote lookup and fetch.</summary>
    public ClusterNode? Node { get; internal set; }

    /// <summary>The peer data plane this node serves.</summary>
    public PeerDataServer? DataServer { get; internal set; }

    /// <summary>
    /// A reused gRPC channel to another member (<c>http(s)://host:port</c>, or a bare <c>host:port</c>, dialed with this
    /// node's own scheme: https when it serves TLS): probes, status and requests forwarded to a block's owner share one
    /// channel per member. HTTPS peers are trusted through the system store and the <c>--tls-ca</c> certificates.
    /// </summary>
    public GrpcChannel ChannelTo(string grpcEndpoint) =>
        _channels.GetOrAdd(grpcEndpoint, e =>
        {
            var address = e.Contains("://", StringComparison.Ordinal) ? e : $"{(_peerTls ? "https" : "http")}://{e}";
            if (_peerAnchors is not { Count: > 0 } anchors || !address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return GrpcChannel.ForAddress(address);
            }

            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
            handler.SslOptions.RemoteCertificateValidationCallback = Core.CertificateTrust.Validator(anchors);
            return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        });

    /// <summary>Dials bare peer endpoints over HTTPS (this node serves TLS) and trusts <paramref name="anchors"/> besides the system store.</summary>
    internal void UsePeerTls(bool tls, X509Certificate2Collection? anchors)
    {
        _peerTls = tls;
        _peerAnchors = anchors;
    }

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
