using KvTier.Client;
using KvTier.Cluster.Membership;
using KvTier.Core;

namespace KvTier.Server.Tests;

/// <summary>
/// Three members with API keys, TLS between them (one self-signed certificate each trusts through --tls-ca) and one
/// owner per block: replication, peer fetch, remote lookup and forwarded leases all keep the caller's tenant.
/// </summary>
public sealed class ClusterAuthTests : IAsyncLifetime
{
    private const string KeyA = "cluster-key-tenant-a-0123";
    private const string KeyB = "cluster-key-tenant-b-0123";
    private const string AdminKey = "cluster-admin-key-0123456";

    private readonly SelfSigned _certificate = new();
    private readonly List<KvTierServer> _nodes = [];
    private readonly List<KvTierClient> _clients = [];

    public async Task InitializeAsync()
    {
        var endpoints = Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{ClusterTestNodes.FreePort()}").ToArray();
        _nodes.AddRange(await Task.WhenAll(endpoints.Select((e, i) => KvTierServer.StartAsync(new ServerOptions
        {
            NodeId = $"node-{(char)('a' + i)}",
            Listen = e,
            DataListen = $"127.0.0.1:{ClusterTestNodes.FreePort()}", // chosen up front: no node's port-0 bind can take a port a sibling is about to listen on
            Memory = "48MiB",
            MaxBlock = "1MiB",
            Staging = "1MiB",
            Peers = endpoints,
            Replicas = 1,
            WriteAck = "one",
            ClusterSecret = "a-cluster-secret",
            Tls = new TlsOptions { CertificateFile = _certificate.CertificateFile, KeyFile = _certificate.KeyFile, CaFile = _certificate.CertificateFile },
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "tenant-a", [KeyB] = "tenant-b" },
                AdminKeys = new Dictionary<string, string> { [AdminKey] = "ops" },
            },
        }))));
        for (var round = 0; round < 50 && _nodes.Any(n => ClusterTestNodes.MembershipOf(n).View.Live.Count < 3); round++)
        {
            await Task.WhenAll(_nodes.Select(n => ((StaticMembership)ClusterTestNodes.MembershipOf(n)).ProbeAllAsync(CancellationToken.None)));
        }

        Assert.All(_nodes, n => Assert.Equal(3, ClusterTestNodes.MembershipOf(n).View.Live.Count));
    }

    public async Task DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        _certificate.Dispose();
    }

    [Fact]
    public async Task A_block_replicated_and_fetched_between_members_stays_in_its_tenant()
    {
        var key = KeyOwnedBy(1);
        var payload = Blocks.Random(300 << 10);

        await Client(0, KeyA).PutAsync(key, payload); // stored on a, copied to its owner b before the put returns

        Assert.Equal(BlockStatus.Ok, _nodes[1].Store.Peek("tenant-a", key, out _));
        Assert.Equal(1, (await Client(2, KeyA).LookupAsync([key])).Prefix);
        Assert.Equal(0, (await Client(2, KeyB).LookupAsync([key])).Prefix);
        Assert.Null(await Client(2, KeyB).GetAsync(key));
        Assert.Equal(payload, await Client(2, KeyA).GetAsync(key)); // fetched from b into c's store, as tenant-a
        Assert.Equal(BlockStatus.Ok, _nodes[2].Store.Peek("tenant-a", key, out _));
        Assert.Equal(BlockStatus.NotFound, _nodes[2].Store.Peek("tenant-b", key, out _));
    }

    [Fact]
    public async Task A_shared_block_published_on_one_member_is_read_through_another_by_every_tenant()
    {
        var key = KeyOwnedBy(1);
        var payload = Blocks.Random(1000);
        await Client(0, AdminKey, "shared").PutAsync(key, payload);

        Assert.Equal(1, (await Client(2, KeyB).LookupAsync([key])).Prefix);
        Assert.Equal(payload, await Client(2, KeyB).GetAsync(key));
        Assert.Equal(payload, await Client(2, KeyA).GetAsync(key));
    }

    [Fact]
    public async Task A_lease_forwarded_to_its_owner_is_taken_in_the_callers_tenant()
    {
        var prefix = KeyOwnedBy(1);

        var a = await Client(0, KeyA).BeginPrefillAsync(prefix, "engine-a", 500);
        var b = await Client(2, KeyB).BeginPrefillAsync(prefix, "engine-b", 500);
        var again = await Client(2, KeyA).BeginPrefillAsync(prefix, "engine-a2", 500);

        Assert.True(a.Acquired);
        Assert.Equal("node-b", a.LeaseNode);
        Assert.True(b.Acquired);
        Assert.False(again.Acquired);
        Assert.Equal("engine-a", again.Holder);
    }

    private KvTierClient Client(int node, string key, string? ns = null)
    {
        var client = new KvTierClient(_nodes[node].Address,
            new KvTierClientOptions { ApiKey = key, Namespace = ns, TrustedCertificates = [_certificate.Certificate] });
        _clients.Add(client);
        return client;
    }

    // A key whose only owner is the given node, so that the other two must reach it through the cluster.
    private BlockKey KeyOwnedBy(int node)
    {
        while (true)
        {
            var key = Blocks.RandomKey();
            if (_nodes[0].Cluster.Node!.Owners(key)[0].NodeId == _nodes[node].Options.NodeId)
            {
                return key;
            }
        }
    }
}
