using System.Net;
using System.Net.Sockets;
using KvTier.Client;
using KvTier.Cluster.Membership;
using KvTier.Core;
using KvTier.Server.Operations;

namespace KvTier.Server.Tests;

/// <summary>
/// Two real sidecars with static membership and one copy of each block (<c>--replicas 1</c>), so a block lives on one
/// node only: remote hits, fetched and replicated bytes, peer fetch latency and members up, as each node's /metrics says.
/// </summary>
public sealed class ClusterMetricsTests : IAsyncLifetime
{
    private readonly List<KvTierServer> _nodes = [];
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        var endpoints = Enumerable.Range(0, 2).Select(_ => $"127.0.0.1:{ClusterTestNodes.FreePort()}").ToArray();
        _nodes.AddRange(await Task.WhenAll(endpoints.Select((e, i) => KvTierServer.StartAsync(new ServerOptions
        {
            NodeId = i == 0 ? "node-a" : "node-b",
            Listen = e,
            DataListen = $"127.0.0.1:{ClusterTestNodes.FreePort()}", // chosen up front: no node's port-0 bind can take a port a sibling is about to listen on
            Metrics = "127.0.0.1:0",
            Memory = "32MiB",
            MaxBlock = "1MiB",
            Staging = "1MiB",
            Peers = endpoints,
            Replicas = 1,
            WriteAck = "all",
        }))));
        // A node that started first probed the other before it listened: probe until both views are whole (bounded).
        for (var round = 0; round < 50 && _nodes.Any(n => n.Cluster.Node!.View.Live.Count < 2); round++)
        {
            await Task.WhenAll(_nodes.Select(n => ((StaticMembership)ClusterTestNodes.MembershipOf(n)).ProbeAllAsync(CancellationToken.None)));
        }

        Assert.All(_nodes, n => Assert.Equal(2, n.Cluster.Node!.View.Live.Count));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Remote_hits_fetches_replicas_and_members_up_are_counted_on_the_nodes_that_did_the_work()
    {
        const int Length = 200_000;
        var (a, b) = (_nodes[0], _nodes[1]);
        using var clientA = new KvTierClient(a.Address);
        using var clientB = new KvTierClient(b.Address);
        var onA = KeyOwnedBy(a, "node-a");
        var onB = KeyOwnedBy(a, "node-b");

        await clientA.PutAsync(onA, Blocks.Random(Length)); // stays on a: its one owner
        await clientA.PutAsync(onB, Blocks.Random(Length)); // a keeps its copy and, with write-ack all, b stores one
        Assert.Equal(1, (await clientB.LookupAsync([onA])).Prefix);
        Assert.Equal(Length, (await clientB.GetAsync(onA))!.Length); // fetched from a into b, then served

        var scrapeA = await Exposition.ScrapeAsync(_http, a.MetricsAddress!);
        var scrapeB = await Exposition.ScrapeAsync(_http, b.MetricsAddress!);
        Assert.Equal(Length, scrapeA.Value(MetricNames.Bytes, ("op", "replicate"), ("source", "peer")));
        Assert.Equal(2 * Length, scrapeA.Value(MetricNames.Bytes, ("op", "put"), ("source", "local")));
        Assert.Equal(1, scrapeB.Value(MetricNames.LookupBlocks, ("result", "hit_remote")));
        Assert.Equal(0, scrapeB.Value(MetricNames.LookupBlocks, ("result", "hit_local")));
        Assert.Equal(Length, scrapeB.Value(MetricNames.Bytes, ("op", "fetch"), ("source", "peer")));
        Assert.Equal(Length, scrapeB.Value(MetricNames.Bytes, ("op", "get"), ("source", "local")));
        Assert.Equal(1, scrapeB.Value(MetricNames.FetchSeconds + "_count", ("source", "peer")));
        Assert.Equal(0, scrapeB.Value(MetricNames.ReplicationQueue));
        foreach (var scrape in new[] { scrapeA, scrapeB })
        {
            Assert.Equal(1, scrape.Value(MetricNames.PeerUp, ("peer", "node-a")));
            Assert.Equal(1, scrape.Value(MetricNames.PeerUp, ("peer", "node-b")));
        }
    }

    private static BlockKey KeyOwnedBy(KvTierServer node, string owner)
    {
        for (var i = 0; i < 1000; i++)
        {
            var key = Blocks.RandomKey();
            if (node.Cluster.Node!.Owners(key)[0].NodeId == owner)
            {
                return key;
            }
        }

        throw new InvalidOperationException($"no key owned by {owner} in 1000 tries");
    }
}
