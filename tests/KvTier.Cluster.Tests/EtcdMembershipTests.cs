using System.Diagnostics;
using System.Text.Json;
using KvTier.Cluster.Membership;
using static KvTier.Cluster.Tests.EtcdTestSupport;

namespace KvTier.Cluster.Tests;

/// <summary>EtcdMembership against one real etcd per class (<see cref="EtcdFixture"/>); every test uses its own cluster name.</summary>
public sealed class EtcdMembershipTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Three_members_join_and_every_view_converges_to_all_three()
    {
        var cluster = UniqueCluster();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"));
        await using var b = new EtcdMembership(etcd.Url, cluster, Member("node-b"));
        await using var c = new EtcdMembership(etcd.Url, cluster, Member("node-c"));

        await Task.WhenAll(c.StartAsync(default), a.StartAsync(default), b.StartAsync(default)).WaitAsync(Converge);
        await WaitForMembersAsync([a, b, c], Converge, "node-a", "node-b", "node-c");

        foreach (var m in new[] { a, b, c })
        {
            Assert.Equal(["node-a", "node-b", "node-c"], m.View.Members.Select(x => x.NodeId));
            Assert.Empty(m.View.Down);
            Assert.Equal(3, m.View.Live.Count);
            Assert.Equal(2, m.View.LivePeers.Count());
        }

        Assert.Equal(Member("node-b"), a.View.Members[1]);
        using var client = etcd.NewClient();
        var stored = await client.GetAsync($"/kvtier/{cluster}/members/node-b");
        using var json = JsonDocument.Parse(stored.Kvs.Single().Value.ToStringUtf8());
        Assert.Equal("node-b", json.RootElement.GetProperty("node_id").GetString());
        Assert.Equal("http://node-b.test:50051", json.RootElement.GetProperty("grpc").GetString());
        Assert.Equal("node-b.test:50061", json.RootElement.GetProperty("data").GetString());
        Assert.Equal(Seed, json.RootElement.GetProperty("seed_fingerprint").GetString());
        Assert.Equal(1L << 30, json.RootElement.GetProperty("capacity").GetInt64());
        Assert.NotEqual(0, stored.Kvs.Single().Lease);
    }

    [Fact]
    public async Task A_member_that_disposes_leaves_the_others_views_at_once_through_the_lease_revoke()
    {
        var cluster = UniqueCluster();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"));
        await using var b = new EtcdMembership(etcd.Url, cluster, Member("node-b"));
        var leaving = new EtcdMembership(etcd.Url, cluster, Member("node-c"));
        await a.StartAsync(default);
        await b.StartAsync(default);
        await leaving.StartAsync(default);
        await WaitForMembersAsync([a, b], Converge, "node-a", "node-b", "node-c");

        await leaving.DisposeAsync();

        // The lease TTL is 5 s: leaving well within it proves the revoke, not the expiry, removed the node.
        await WaitForMembersAsync([a, b], TimeSpan.FromSeconds(3), "node-a", "node-b");
        using var client = etcd.NewClient();
        Assert.Empty((await client.GetAsync(leaving.Key)).Kvs);
    }

    [Fact]
    public async Task A_member_that_dies_without_revoking_drops_out_after_its_lease_ttl()
    {
        var cluster = UniqueCluster();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"));
        var dying = new EtcdMembership(etcd.Url, cluster, Member("node-d"), leaseTtl: TimeSpan.FromSeconds(2));
        await a.StartAsync(default);
        await dying.StartAsync(default);
        await WaitForMembersAsync([a], Converge, "node-a", "node-d");

        var clock = Stopwatch.StartNew();
        await dying.SimulateCrashAsync();
        Assert.Contains(a.View.Members, m => m.NodeId == "node-d"); // no revoke: still listed until the lease runs out

        await WaitForMembersAsync([a], TimeSpan.FromSeconds(8), "node-a");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"node-d left after {clock.Elapsed.TotalSeconds:0.00} s: sooner than its 2 s lease allows");
    }

    [Fact]
    public async Task A_member_with_another_seed_is_refused_with_SeedMismatchException_and_not_registered()
    {
        var cluster = UniqueCluster();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"));
        await a.StartAsync(default);
        await using var odd = new EtcdMembership(etcd.Url, cluster, Member("node-odd", seed: "0ddf1n9e4p41n700"));

        var error = await Assert.ThrowsAsync<SeedMismatchException>(() => odd.StartAsync(default));

        Assert.Equal("node-a", error.NodeId);
        Assert.Contains(Seed, error.Message, StringComparison.Ordinal);
        Assert.Contains("0ddf1n9e4p41n700", error.Message, StringComparison.Ordinal);
        Assert.Contains("--hash-seed", error.Message, StringComparison.Ordinal);
        using var client = etcd.NewClient();
        Assert.Empty((await client.GetAsync(odd.Key)).Kvs);
        Assert.Single(a.View.Members);
    }

    [Fact]
    public async Task A_record_with_another_seed_that_appears_later_is_logged_and_kept_out_of_the_view()
    {
        var cluster = UniqueCluster();
        var log = new EtcdTestLogger();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"), logger: log);
        await a.StartAsync(default);
        using var client = etcd.NewClient();

        // As if two nodes raced their seed checks: the odd one registered anyway. Then a good one, as a sync point.
        await client.PutAsync($"/kvtier/{cluster}/members/node-odd", RecordJson(Member("node-odd", seed: "0ddf1n9e4p41n700")));
        await client.PutAsync($"/kvtier/{cluster}/members/node-b", RecordJson(Member("node-b")));

        await WaitForMembersAsync([a], Converge, "node-a", "node-b");
        await log.WaitForAsync(4103, Converge, "the seed mismatch of node-odd should be logged");
        Assert.Contains(log.Entries, e => e.Id == 4103 && e.Message.Contains("node-odd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_etcd_fails_start_with_an_error_naming_the_url_and_the_fix()
    {
        var url = $"http://127.0.0.1:{EtcdFixture.FreePort()}";
        await using var m = new EtcdMembership(url, UniqueCluster(), Member("node-a"));

        var error = await Assert.ThrowsAsync<EtcdUnavailableException>(() => m.StartAsync(default).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(url, error.Url);
        Assert.Contains($"cannot reach etcd at {url}", error.Message, StringComparison.Ordinal);
        Assert.Contains("--etcd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_canceled_start_throws_OperationCanceledException_and_registers_nothing()
    {
        await using var m = new EtcdMembership(etcd.Url, UniqueCluster(), Member("node-a"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => m.StartAsync(new CancellationToken(canceled: true)));

        using var client = etcd.NewClient();
        Assert.Empty((await client.GetAsync(m.Key)).Kvs);
    }

    [Fact]
    public void A_malformed_etcd_url_is_rejected_with_an_example()
    {
        var error = Assert.Throws<ArgumentException>(() => new EtcdMembership("127.0.0.1:2379", "kvtier", Member("node-a")));
        Assert.Contains("http://127.0.0.1:2379", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_whose_lease_is_revoked_behind_its_back_registers_again_under_a_new_lease()
    {
        var cluster = UniqueCluster();
        var log = new EtcdTestLogger();
        await using var a = new EtcdMembership(etcd.Url, cluster, Member("node-a"));
        await using var b = new EtcdMembership(etcd.Url, cluster, Member("node-b"), logger: log);
        await a.StartAsync(default);
        await b.StartAsync(default);
        await WaitForMembersAsync([a], Converge, "node-a", "node-b");
        using var client = etcd.NewClient();
        var oldLease = (await client.GetAsync(b.Key)).Kvs.Single().Lease;

        await client.LeaseRevokeAsync(new Etcdserverpb.LeaseRevokeRequest { ID = oldLease });

        await log.WaitForAsync(4105, Converge, "node-b should register again");
        await WaitForMembersAsync([a], Converge, "node-a", "node-b");
        var record = (await client.GetAsync(b.Key)).Kvs.Single();
        Assert.NotEqual(oldLease, record.Lease);
        Assert.Contains(log.Entries, e => e.Id == 4106);
    }

    [Fact]
    public async Task Losing_etcd_keeps_the_last_view_and_the_members_rejoin_and_watch_again_when_it_returns()
    {
        await using var own = new EtcdFixture();
        await own.InitializeAsync();
        var cluster = UniqueCluster();
        var log = new EtcdTestLogger();
        await using var a = new EtcdMembership(own.Url, cluster, Member("node-a"), logger: log);
        var b = new EtcdMembership(own.Url, cluster, Member("node-b"));
        try
        {
            await a.StartAsync(default);
            await b.StartAsync(default);
            await WaitForMembersAsync([a, b], Converge, "node-a", "node-b");

            await own.StopAsync();
            await log.WaitForAsync(4104, Converge, "node-a should notice that etcd is gone");
            Assert.Equal("node-a,node-b", Ids(a.View));

            await own.RestartAsync();
            await log.WaitForAsync(4105, TimeSpan.FromSeconds(10), "node-a should reconnect when etcd is back");
            Assert.Equal("node-a,node-b", Ids(a.View));
        }
        finally
        {
            await b.DisposeAsync();
        }

        // The watch is live again: node-b's revoke reaches node-a.
        await WaitForMembersAsync([a], Converge, "node-a");
    }

    private static string RecordJson(ClusterMember m) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["node_id"] = m.NodeId,
        ["grpc"] = m.GrpcEndpoint,
        ["data"] = m.DataEndpoint,
        ["seed_fingerprint"] = m.SeedFingerprint,
        ["capacity"] = m.CapacityBytes,
    });
}
