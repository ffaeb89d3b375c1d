using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using KvTier.Client;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Bench;

/// <summary>
/// Two <c>kvtier serve</c> processes on loopback that list each other as static peers, so each starts its peer data
/// plane. Node A is filled through gRPC; its data endpoint comes from <c>kvtier.v1.Cluster/Info</c>.
/// </summary>
internal sealed partial class NetCluster : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly NetChildProcess[] _nodes;

    private NetCluster(NetChildProcess[] nodes) => _nodes = nodes;

    /// <summary>Both sidecar processes.</summary>
    public IReadOnlyList<NetChildProcess> Nodes => _nodes;

    /// <summary>gRPC address of node A (the one that holds the blocks).</summary>
    public Uri A { get; private set; } = null!;

    /// <summary>gRPC address of node B.</summary>
    public Uri B { get; private set; } = null!;

    /// <summary>Starts both processes (they preallocate their stores in parallel); call <see cref="WaitUpAsync"/> next.</summary>
    public static NetCluster Start(NetBenchOptions options, int portA, int portB)
    {
        var peers = $"127.0.0.1:{portA},127.0.0.1:{portB}";
        var nodes = new List<NetChildProcess>();
        try
        {
            foreach (var (id, port) in new[] { ("net-a", portA), ("net-b", portB) })
            {
                var command = options.Sidecar!;
                var node = NetChildProcess.Start($"sidecar {id}", command.FileName, command.LeadingArguments.Concat(
                [
                    "serve", "--listen", $"127.0.0.1:{port}", "--peers", peers, "--memory", options.SidecarMemory,
                    "--max-block", options.SidecarMaxBlock, "--staging", options.SidecarStaging, "--node-id", id,
                ]));
                nodes.Add(node);
                options.ChildStarted?.Invoke(node.Id);
            }

            return new NetCluster([.. nodes]);
        }
        catch
        {
            foreach (var node in nodes)
            {
                node.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }
    }

    /// <summary>Reads each node's URL from its first stdout line, then polls Cluster/Status until both see both members up.</summary>
    public async Task WaitUpAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        var urls = await Task.WhenAll(_nodes.Select(async node =>
        {
            var line = await node.FirstLineAsync(timeout, ct).ConfigureAwait(false);
            return UrlPattern().Match(line) is { Success: true } m ? new Uri(m.Value) : throw node.Failed($"printed '{line}' instead of its address");
        })).ConfigureAwait(false);
        (A, B) = (urls[0], urls[1]);
        for (var i = 0; i < _nodes.Length; i++)
        {
            using var channel = GrpcChannel.ForAddress(urls[i]);
            var cluster = new Rpc.Cluster.ClusterClient(channel);
            while (true)
            {
                var status = await TryStatusAsync(cluster, ct).ConfigureAwait(false);
                if (status is { Members.Count: >= 2 } && status.Members.All(m => m.Up))
                {
                    break;
                }

                if (_nodes[i].HasExited)
                {
                    throw _nodes[i].Failed("exited while waiting for its peer");
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw _nodes[i].Failed($"did not see both members up within {timeout.TotalSeconds:0} s");
                }

                await Task.Delay(PollInterval, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Node A's peer data endpoint, as its <c>Cluster/Info</c> reports it.</summary>
    public async Task<EndPoint> DataEndpointAsync(CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(A);
        var info = await new Rpc.Cluster.ClusterClient(channel).InfoAsync(new Rpc.InfoRequest(), cancellationToken: ct).ConfigureAwait(false);
        if (IPEndPoint.TryParse(info.DataEndpoint, out var ip) && ip.Port != 0)
        {
            return ip;
        }

        var colon = info.DataEndpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(info.DataEndpoint.AsSpan(colon + 1), out var port)
            ? new DnsEndPoint(info.DataEndpoint[..colon], port)
            : throw _nodes[0].Failed($"reports data endpoint '{info.DataEndpoint}', which is not host:port");
    }

    /// <summary>Puts every block on node A through gRPC (a few at a time), then waits until A has replicated them to B.</summary>
    public async Task FillAsync(KvTierClient client, IReadOnlyList<BlockKey> keys, NetBlocks blocks, ulong fingerprint, TimeSpan timeout,
        IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        const int InFlight = 4;
        for (var start = 0; start < keys.Count; start += InFlight)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(InFlight, keys.Count - start))
                .Select(i => client.PutAsync(keys[i], blocks.Block(i), geometryFingerprint: fingerprint, ct: ct))).ConfigureAwait(false);
            progress?.Report(new BenchProgress("fill node A (gRPC put)", (double)(start + InFlight) / keys.Count));
        }

        // A queues a copy of every put to B; wait for that to finish so it does not run during a measurement.
        using var channel = GrpcChannel.ForAddress(A);
        var cluster = new Rpc.Cluster.ClusterClient(channel);
        var deadline = DateTime.UtcNow + timeout;
        var (previous, unchanged) = (ulong.MaxValue, 0);
        while (true)
        {
            var status = await cluster.StatusAsync(new Rpc.ClusterStatusRequest(), cancellationToken: ct).ConfigureAwait(false);
            var settled = status.ReplicatedBlocks + status.ReplicationFailures;
            unchanged = settled == previous ? unchanged + 1 : 0;
            previous = settled;
            if (status.ReplicationQueue == 0 && (settled >= (ulong)keys.Count || unchanged >= 3))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw _nodes[0].Failed($"still had {status.ReplicationQueue} blocks to replicate after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(PollInterval, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Rpc.ClusterStatusResponse?> TryStatusAsync(Rpc.Cluster.ClusterClient cluster, CancellationToken ct)
    {
        try
        {
            return await cluster.StatusAsync(new Rpc.ClusterStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct)
                .ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return null; // still starting
        }
    }

    [GeneratedRegex(@"http://[^\s]+")]
    private static partial Regex UrlPattern();
}
