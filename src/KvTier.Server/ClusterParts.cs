using System.Net;
using KvTier.Cluster.DataPlane;
using KvTier.Cluster.Membership;
using KvTier.Cluster.Runtime;
using KvTier.Core;
using KvTier.Store;
using Microsoft.Extensions.Logging;

namespace KvTier.Server;

/// <summary>Starts and stops the cluster side of a sidecar in the right order: data plane, then membership, then runtime.</summary>
internal sealed class ClusterParts : IAsyncDisposable
{
    private IMembership? _membership;

    public ClusterRuntime Runtime { get; } = new();

    /// <summary>Binds the peer data plane first, so this node's identity is complete when peers ask for it.</summary>
    public void BindDataPlane(ServerOptions options, IBlockStore store, ILoggerFactory loggerFactory)
    {
        if (!options.IsClustered)
        {
            return;
        }

        var endpoint = options.DataListen is { } listen && HostPort.TryParseListen(listen, out var given)
            ? given
            : new IPEndPoint(options.ListenEndPoint.Address, 0);
        Runtime.DataServer = new PeerDataServer(endpoint, store, new PeerDataOptions
        {
            ClusterName = options.Cluster,
            SeedFingerprint = BlockHasher.SeedFingerprintOf(options.HashSeed),
            NodeId = options.NodeId,
            ClusterSecret = options.ClusterSecret,
            MaxBlockBytes = options.MaxBlockBytes,
        }, loggerFactory.CreateLogger<PeerDataServer>());
    }

    /// <summary>Publishes this node's identity and, in a cluster, joins it (throws <see cref="SeedMismatchException"/>).</summary>
    public async Task JoinAsync(ServerOptions options, IBlockStore store, Uri address, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var fingerprint = BlockHasher.SeedFingerprintOf(options.HashSeed);
        var data = Runtime.DataServer is { } server ? Advertised(server.Endpoint) : "";
        var self = new ClusterMember(options.NodeId, $"{address.Scheme}://{Advertised(address.Host, address.Port)}", data, fingerprint, options.MemoryBytes);
        Runtime.Self = self;
        if (!options.IsClustered)
        {
            return;
        }

        if (options.Etcd is { } etcd)
        {
            _membership = new EtcdMembership(etcd, options.Cluster, self, logger: loggerFactory.CreateLogger<EtcdMembership>());
            Runtime.MembershipKind = "etcd";
        }
        else
        {
            _membership = new StaticMembership(self, options.Peers, new ClusterProbe(Runtime).ProbeAsync,
                logger: loggerFactory.CreateLogger<StaticMembership>());
            Runtime.MembershipKind = "static";
        }

        await _membership.StartAsync(ct).ConfigureAwait(false);
        Runtime.Node = new ClusterNode(_membership, store,
            new ClusterOptions { Replicas = options.Replicas, WriteAck = ClusterOptions.ParseWriteAck(options.WriteAck) },
            new PeerDataClientOptions
            {
                ClusterName = options.Cluster,
                SeedFingerprint = fingerprint,
                NodeId = options.NodeId,
                ClusterSecret = options.ClusterSecret,
                MaxBlockBytes = options.MaxBlockBytes,
            },
            loggerFactory.CreateLogger<ClusterNode>());
    }

    public async ValueTask DisposeAsync()
    {
        if (Runtime.Node is { } node)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        if (_membership is not null)
        {
            await _membership.DisposeAsync().ConfigureAwait(false);
        }

        Runtime.Dispose();
        if (Runtime.DataServer is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Advertised(IPEndPoint endpoint) => Advertised(endpoint.Address.ToString(), endpoint.Port);

    // A wildcard bind is not an address peers can dial: advertise the host name instead.
    private static string Advertised(string host, int port)
    {
        var h = host is "0.0.0.0" or "::" or "[::]" or "*" or "+" ? Dns.GetHostName() : host;
        return h.Contains(':', StringComparison.Ordinal) && !h.StartsWith('[') ? $"[{h}]:{port}" : $"{h}:{port}";
    }
}
