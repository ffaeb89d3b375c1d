using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using KvTier.Client;
using KvTier.Cluster.Membership;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>Three real sidecars on loopback with static membership: placement, replication, remote lookup and fetch.</summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private readonly List<KvTierServer> _nodes = [];
    private readonly ListLoggerProvider _entries = new();
    private readonly Microsoft.Extensions.Logging.ILoggerFactory _logs;

    public ClusterTests() => _logs = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(_entries));
    private string[] _endpoints = [];

    public async Task InitializeAsync()
    {
        // Static membership needs every member's address up front: reserve free loopback ports first.
        _endpoints = Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{ClusterTestNodes.FreePort()}").ToArray();
        var starts = _endpoints.Select((e, i) => KvTierServer.StartAsync(Options($"node-{(char)('a' + i)}", e, writeAck: "one"), _logs));
        _nodes.AddRange(await Task.WhenAll(starts));
        // Nodes that started first probed the others before they listened: probe until every view is whole (bounded).
        for (var round = 0; round < 50 && _nodes.Any(n => ClusterTestNodes.MembershipOf(n).View.Live.Count < 3); round++)
        {
            await Task.WhenAll(_nodes.Select(n => ((StaticMembership)ClusterTestNodes.MembershipOf(n)).ProbeAllAsync(CancellationToken.None)));
        }

        Assert.All(_nodes, n => Assert.Equal(3, ClusterTestNodes.MembershipOf(n).View.Live.Count));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_node_sees_all_three_members_up()
    {
        foreach (var node in _nodes)
        {
            using var channel = GrpcChannel.ForAddress(node.Address);
            var status = await new Rpc.Cluster.ClusterClient(channel).StatusAsync(new Rpc.ClusterStatusRequest());
            Assert.Equal(["node-a", "node-b", "node-c"], status.Members.Select(m => m.Node.NodeId));
            Assert.All(status.Members, m => Assert.True(m.Up, $"{m.Node.NodeId} is down in {node.Options.NodeId}'s view"));
            Assert.Equal("static", status.Membership);
        }
    }

    [Fact]
    public async Task A_block_put_on_one_node_is_found_and_read_on_another_byte_for_byte()
    {
        using var a = new KvTierClient(_nodes[0].Address);
        using var c = new KvTierClient(_nodes[2].Address);
        var keys = Enumerable.Range(0, 6).Select(_ => Blocks.RandomKey()).ToArray();
        var payloads = keys.Select(_ => Blocks.Random(256 << 10)).ToArray();
        for (var i = 0; i < keys.Length; i++)
        {
            await a.PutAsync(keys[i], payloads[i]);
        }

        var lookup = await c.LookupAsync(keys);
        Assert.Equal(keys.Length, lookup.Prefix);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(payloads[i], await c.GetAsync(keys[i]));
        }
    }

    [Fact]
    public async Task With_write_ack_one_a_put_returns_only_after_another_owner_stored_a_copy()
    {
        using var a = new KvTierClient(_nodes[0].Address);
        var key = Blocks.RandomKey();
        try
        {
            await a.PutAsync(key, Blocks.Random(4096));
        }
        catch (Grpc.Core.RpcException)
        {
            Assert.Fail(string.Join("\n", _entries.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => e.Message)));
        }

        var holders = _nodes.Skip(1).Count(n => n.Store.Peek(Auth.Namespaces.Default, key, out _) == BlockStatus.Ok);
        Assert.True(holders >= 1, "no other node holds the block after an acknowledged write-ack-one put");
    }

    [Fact]
    public async Task Engines_on_every_node_meet_the_same_prefill_lease_at_the_prefixs_owner()
    {
        var prefix = Google.Protobuf.ByteString.CopyFrom(Blocks.RandomKey().AsSpan());
        var channels = _nodes.Select(n => GrpcChannel.ForAddress(n.Address)).ToArray();
        try
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 9).Select(i =>
                new Rpc.KvTier.KvTierClient(channels[i % 3]).BeginPrefillAsync(
                    new Rpc.BeginPrefillRequest { PrefixKey = prefix, Holder = $"engine-{i}", EtaMs = 5000 }).ResponseAsync));

            var winner = Assert.Single(answers.Select((a, i) => (Answer: a, Index: i)), a => a.Answer.Acquired);
            Assert.Single(answers.Select(a => a.LeaseNode).Distinct());

            // A waiter on any node waits on that one lease: the holder's release, sent to its own node, ends every wait.
            var waiters = channels.Select(c => new Rpc.KvTier.KvTierClient(c)
                .AwaitPrefillAsync(new Rpc.AwaitPrefillRequest { PrefixKey = prefix, MaxWaitMs = 60_000 }).ResponseAsync).ToArray();
            Assert.All(waiters, w => Assert.False(w.IsCompleted));
            Assert.True((await new Rpc.KvTier.KvTierClient(channels[winner.Index % 3]).EndPrefillAsync(
                new Rpc.EndPrefillRequest { PrefixKey = prefix, Holder = $"engine-{winner.Index}" })).Released);
            Assert.All(await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(60)), w => Assert.True(w.Ended));
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_node_with_another_hash_seed_is_refused_with_the_reason()
    {
        var options = Options("node-x", $"127.0.0.1:{ClusterTestNodes.FreePort()}", writeAck: "local");
        options.HashSeed = "42";

        var ex = await Assert.ThrowsAsync<SeedMismatchException>(() => KvTierServer.StartAsync(options));

        Assert.Contains("--hash-seed", ex.Message, StringComparison.Ordinal);
        Assert.Contains(BlockHasher.SeedFingerprintOf("42"), ex.Message, StringComparison.Ordinal);
    }

    private ServerOptions Options(string nodeId, string listen, string writeAck) => new()
    {
        NodeId = nodeId,
        Listen = listen,
        DataListen = $"127.0.0.1:{ClusterTestNodes.FreePort()}", // chosen up front: no node's port-0 bind can take a port a sibling is about to listen on
        Memory = "48MiB",
        MaxBlock = "1MiB",
        Staging = "1MiB",
        Peers = _endpoints,
        Replicas = 2,
        WriteAck = writeAck,
    };
}
