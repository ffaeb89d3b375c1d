using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using KvTier.Client;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>A server with API keys for two tenants and an admin key.</summary>
public sealed class AuthFixture : IAsyncLifetime
{
    public const string KeyA = "key-of-tenant-a-0123456789";
    public const string KeyB = "key-of-tenant-b-0123456789";
    public const string AdminKey = "admin-key-of-ops-0123456789";

    private readonly List<IDisposable> _owned = [];

    public KvTierServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await KvTierServer.StartAsync(new ServerOptions
    {
        Listen = "127.0.0.1:0",
        Memory = "64MiB",
        MaxBlock = "4MiB",
        Staging = "16MiB",
        NodeId = "auth-node",
        Auth = new AuthOptions
        {
            ApiKeys = new Dictionary<string, string> { [KeyA] = "tenant-a", [KeyB] = "tenant-b" },
            AdminKeys = new Dictionary<string, string> { [AdminKey] = "ops" },
        },
    });

    public async Task DisposeAsync()
    {
        _owned.ForEach(d => d.Dispose());
        await Server.DisposeAsync();
    }

    public KvTierClient Client(string? key, string? ns = null)
    {
        var client = new KvTierClient(Server.Address, new KvTierClientOptions { ApiKey = key, Namespace = ns });
        _owned.Add(client);
        return client;
    }

    public GrpcChannel Channel()
    {
        var channel = GrpcChannel.ForAddress(Server.Address);
        _owned.Add(channel);
        return channel;
    }
}

/// <summary>The auth matrix: keys, tenants, the shared namespace, open endpoints.</summary>
public sealed class AuthTests(AuthFixture fixture) : IClassFixture<AuthFixture>
{
    [Fact]
    public async Task A_call_without_a_key_is_unauthenticated_and_told_how_to_send_one()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => fixture.Client(null).LookupAsync([Blocks.RandomKey()]));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Contains("authorization: Bearer <key>", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("--api-key", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_is_unauthenticated_and_never_echoed()
    {
        const string wrong = "not-a-key-anybody-configured";

        var e = await Assert.ThrowsAsync<RpcException>(() => fixture.Client(wrong).PutAsync(Blocks.RandomKey(), Blocks.Random(100)));
        var stats = await Assert.ThrowsAsync<RpcException>(() => fixture.Client(wrong).StatsAsync());

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, stats.StatusCode);
        Assert.DoesNotContain(wrong, e.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(AuthFixture.KeyA, e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_cannot_read_look_up_touch_or_delete_another_tenants_block()
    {
        var a = fixture.Client(AuthFixture.KeyA);
        var b = fixture.Client(AuthFixture.KeyB);
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(4096);
        await a.PutAsync(key, payload);

        Assert.Null(await b.GetAsync(key));
        Assert.Equal(0, (await b.LookupAsync([key])).Prefix);
        Assert.Equal(0, await b.TouchAsync([key], TimeSpan.FromMinutes(1)));
        Assert.Equal(0, await b.DeleteAsync([key]));

        Assert.Equal(payload, await a.GetAsync(key));
        Assert.Equal(1, (await a.LookupAsync([key])).Prefix);
    }

    [Fact]
    public async Task The_same_key_in_two_tenants_is_two_blocks()
    {
        var a = fixture.Client(AuthFixture.KeyA);
        var b = fixture.Client(AuthFixture.KeyB);
        var key = Blocks.RandomKey();
        var (fromA, fromB) = (Blocks.Random(1000), Blocks.Random(2000));

        await a.PutAsync(key, fromA);
        await b.PutAsync(key, fromB);

        Assert.Equal(fromA, await a.GetAsync(key));
        Assert.Equal(fromB, await b.GetAsync(key));
        Assert.Equal(BlockStatus.Ok, fixture.Server.Store.Peek("tenant-a", key, out _));
        Assert.Equal(BlockStatus.Ok, fixture.Server.Store.Peek("tenant-b", key, out _));
        Assert.Equal(BlockStatus.NotFound, fixture.Server.Store.Peek(Auth.Namespaces.Default, key, out _));
    }

    [Fact]
    public async Task The_shared_namespace_is_read_by_every_tenant_and_a_prefix_spans_shared_then_own_blocks()
    {
        var admin = fixture.Client(AuthFixture.AdminKey, "shared");
        var a = fixture.Client(AuthFixture.KeyA);
        var b = fixture.Client(AuthFixture.KeyB);
        var chain = new BlockHasher(Guid.NewGuid().ToString()).HashChain([.. Enumerable.Range(1, 3 * 16)]);
        var system = Blocks.Random(3000);
        await admin.PutAsync(chain[0], system);   // a public system prompt
        await a.PutAsync(chain[1], Blocks.Random(10)); // A's own continuation

        Assert.Equal(system, await a.GetAsync(chain[0]));
        Assert.Equal(system, await b.GetAsync(chain[0]));
        Assert.Equal(system, await fixture.Client(AuthFixture.KeyB, "shared").GetAsync(chain[0]));
        Assert.Equal(2, (await a.LookupAsync(chain)).Prefix);
        Assert.Equal(1, (await b.LookupAsync(chain)).Prefix);
        Assert.Equal(0, (await fixture.Client(AuthFixture.KeyA, "tenant-a").LookupAsync(chain)).Prefix); // its own namespace only
        Assert.Equal(0, await a.DeleteAsync([chain[0]])); // reading shared is not owning it
        Assert.Equal(system, await b.GetAsync(chain[0]));
    }

    [Fact]
    public async Task Only_admin_keys_write_the_shared_namespace()
    {
        var key = Blocks.RandomKey();
        var a = fixture.Client(AuthFixture.KeyA, "shared");

        var put = await Assert.ThrowsAsync<RpcException>(() => a.PutAsync(key, Blocks.Random(100)));
        var delete = await Assert.ThrowsAsync<RpcException>(() => a.DeleteAsync([key]));
        var touch = await Assert.ThrowsAsync<RpcException>(() => a.TouchAsync([key], null));

        Assert.All(new[] { put, delete, touch }, e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.Contains("only admin keys", put.Status.Detail, StringComparison.Ordinal);
        Assert.Null(await fixture.Client(AuthFixture.KeyB).GetAsync(key));

        await fixture.Client(AuthFixture.AdminKey, "shared").PutAsync(key, Blocks.Random(100));
        Assert.Equal(1, await fixture.Client(AuthFixture.AdminKey, "shared").DeleteAsync([key]));
    }

    [Fact]
    public async Task A_key_cannot_name_another_tenants_namespace()
    {
        var key = Blocks.RandomKey();
        await fixture.Client(AuthFixture.KeyB).PutAsync(key, Blocks.Random(100));

        var e = await Assert.ThrowsAsync<RpcException>(() => fixture.Client(AuthFixture.KeyA, "tenant-b").GetAsync(key));

        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("kvtier-namespace", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prefill_leases_are_per_tenant()
    {
        var prefix = Blocks.RandomKey();

        var first = await fixture.Client(AuthFixture.KeyA).BeginPrefillAsync(prefix, "engine-a", 500);
        var other = await fixture.Client(AuthFixture.KeyB).BeginPrefillAsync(prefix, "engine-b", 500);
        var same = await fixture.Client(AuthFixture.KeyA).BeginPrefillAsync(prefix, "engine-a2", 500);

        Assert.True(first.Acquired);
        Assert.True(other.Acquired); // B never sees that A computes the same tokens
        Assert.False(same.Acquired);
        Assert.Equal("engine-a", same.Holder);
    }

    [Fact]
    public async Task Engine_pools_belong_to_the_tenant_that_registered_them()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvtier-authtest-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(path, new byte[16 * 2048]);
        try
        {
            var geometry = new ModelGeometry("test", 2, 2, 16, KvDType.Fp16, 8);
            var pool = await fixture.Client(AuthFixture.KeyA).RegisterPoolAsync(geometry, Rpc.PoolLayout.VllmPaged, 16, path, Environment.ProcessId);

            var b = fixture.Client(AuthFixture.KeyB);
            var offload = await Assert.ThrowsAsync<RpcException>(() => b.OffloadAsync(pool, [(Blocks.RandomKey(), 0)]));
            var unregister = await Assert.ThrowsAsync<RpcException>(() => b.UnregisterPoolAsync(pool));

            Assert.Equal(StatusCode.FailedPrecondition, offload.StatusCode);
            Assert.Contains("is not registered", offload.Status.Detail, StringComparison.Ordinal);
            Assert.Equal(StatusCode.NotFound, unregister.StatusCode);
            await fixture.Client(AuthFixture.KeyA).UnregisterPoolAsync(pool);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Health_and_the_membership_probe_need_no_key()
    {
        var channel = fixture.Channel();

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        var info = await new Rpc.Cluster.ClusterClient(channel).InfoAsync(new Rpc.InfoRequest());
        var status = await Assert.ThrowsAsync<RpcException>(async () => await new Rpc.Cluster.ClusterClient(channel).StatusAsync(new Rpc.ClusterStatusRequest()));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal("auth-node", info.NodeId);
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
    }
}
