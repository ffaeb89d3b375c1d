using KvTier.Cluster.DataPlane;
using KvTier.Cluster.Membership;
using KvTier.Cluster.Runtime;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Cluster.Tests;

/// <summary>The cluster runtime over real peer data planes: hedged fetches, circuit breaking, placement.</summary>
public sealed class ClusterNodeTests : IAsyncDisposable
{
    private readonly BlockStore _self = TestBlocks.Store();
    private readonly BlockStore _slowStore = TestBlocks.Store();
    private readonly BlockStore _fastStore = TestBlocks.Store();
    private readonly PeerDataServer _slowServer;
    private readonly PeerDataServer _fastServer;
    private readonly FaultProxy _hang;

    public ClusterNodeTests()
    {
        _slowServer = TestBlocks.Server(_slowStore);
        _fastServer = TestBlocks.Server(_fastStore);
        _hang = new FaultProxy(_slowServer.Endpoint);
        _hang.HangAll(); // the slow peer accepts connections and then never answers
    }

    public async ValueTask DisposeAsync()
    {
        await _hang.DisposeAsync();
        await _slowServer.DisposeAsync();
        await _fastServer.DisposeAsync();
        _self.Dispose();
        _slowStore.Dispose();
        _fastStore.Dispose();
    }

    [Fact]
    public async Task A_hanging_replica_is_hedged_around_then_its_circuit_opens_and_fetches_go_to_the_other_replica()
    {
        var self = Member("self", "127.0.0.1:1");
        var slow = Member("slow", _hang.Endpoint.ToString());
        var fast = Member("fast", _fastServer.Endpoint.ToString());
        await using var membership = new FixedMembership(new ClusterView(self, [fast, self, slow], new HashSet<string>(), 1));
        await using var node = new ClusterNode(membership, _self,
            new ClusterOptions { Replicas = 3, RequestTimeout = TimeSpan.FromSeconds(4), InitialHedgeDelay = TimeSpan.FromMilliseconds(20) },
            TestBlocks.ClientOptions());

        // Keys whose first owner is the hanging peer: every fetch must be served by the other replica anyway. The
        // timeout is long enough that a stalled machine does not time out the healthy replica's first connection.
        var keys = Enumerable.Range(0, 400).Select(i => TestBlocks.Key(i)).Where(k => node.Owners(k).First(o => o.NodeId != "self").NodeId == "slow")
            .Take(6).ToArray();
        Assert.Equal(6, keys.Length);
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            var payload = TestBlocks.Payload(i, 4096);
            Assert.Equal(BlockStatus.Ok, _fastStore.Put(TestBlocks.Tenant, key, payload));
            Assert.Equal(BlockStatus.Ok, _slowStore.Put(TestBlocks.Tenant, key, payload));
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(BlockStatus.Ok, await node.FetchAsync(TestBlocks.Tenant, keys[i]).Guard());
            Assert.Equal(BlockStatus.Ok, _self.Peek(TestBlocks.Tenant, keys[i], out _));
        }

        // The abandoned attempts time out on their own and open the slow peer's circuit (bounded wait).
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!node.IsCircuitOpen(slow) && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }

        Assert.True(node.IsCircuitOpen(slow), "the circuit to the hanging peer never opened");
        Assert.False(node.IsCircuitOpen(fast));
        for (var i = 3; i < keys.Length; i++)
        {
            Assert.Equal(BlockStatus.Ok, await node.FetchAsync(TestBlocks.Tenant, keys[i]).Guard());
        }
    }

    [Fact]
    public async Task A_miss_then_a_hanging_owner_ends_in_a_clean_miss_without_hedging_past_the_last_owner()
    {
        using var emptyStore = TestBlocks.Store();
        await using var emptyServer = TestBlocks.Server(emptyStore);
        var self = Member("self", "127.0.0.1:1");
        var empty = Member("empty", emptyServer.Endpoint.ToString());
        var slow = Member("slow", _hang.Endpoint.ToString());
        await using var membership = new FixedMembership(new ClusterView(self, [empty, self, slow], new HashSet<string>(), 1));
        // The first owner misses well inside the hedge delay (a loopback round trip against 5 s, so a stalled CI machine
        // does not hedge early); the fail-over to the hanging owner then outlives a hedge interval.
        await using var node = new ClusterNode(membership, _self,
            new ClusterOptions { Replicas = 3, InitialHedgeDelay = TimeSpan.FromSeconds(5), RequestTimeout = TimeSpan.FromSeconds(6) },
            TestBlocks.ClientOptions());
        var key = Enumerable.Range(0, 400).Select(i => TestBlocks.Key(1000 + i))
            .First(k => node.Owners(k).First(o => o.NodeId != "self").NodeId == "empty");

        Assert.Equal(BlockStatus.NotFound, await node.FetchAsync(TestBlocks.Tenant, key).Guard());
        Assert.Equal(0, node.HedgedFetches);
        Assert.Equal(1, node.RemoteFetchMisses);
    }

    [Fact]
    public async Task Concurrent_fetches_of_one_block_share_one_transfer()
    {
        var self = Member("self", "127.0.0.1:1");
        var fast = Member("fast", _fastServer.Endpoint.ToString());
        await using var membership = new FixedMembership(new ClusterView(self, [fast, self], new HashSet<string>(), 1));
        await using var node = new ClusterNode(membership, _self, new ClusterOptions { Replicas = 2 }, TestBlocks.ClientOptions());
        var key = TestBlocks.Key(9);
        _fastStore.Put(TestBlocks.Tenant, key, TestBlocks.Payload(9, 1 << 20));

        var fetches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => node.FetchAsync(TestBlocks.Tenant, key))).Guard();

        Assert.All(fetches, s => Assert.Equal(BlockStatus.Ok, s));
        Assert.InRange(_fastServer.GetStats().BlocksSent, 1, 2); // one transfer (a second only if one finished before the rest began)
        Assert.Equal(BlockStatus.Ok, _self.Peek(TestBlocks.Tenant, key, out _));
    }

    private static ClusterMember Member(string id, string data) => new(id, $"http://{data}", data, TestBlocks.Seed, 1L << 30);

    private sealed class FixedMembership(ClusterView view) : IMembership
    {
        public ClusterView View { get; } = view;

        public event Action<ClusterView>? Changed
        {
            add { }
            remove { }
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
