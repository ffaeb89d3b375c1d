using KvTier.Client;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Server.Tests;

/// <summary>Per-tenant DRAM quotas from KvTier:Auth:Quotas, end to end over gRPC: a noisy neighbour's burst.</summary>
public sealed class QuotaServerTests
{
    private const string KeyA = "quota-key-of-tenant-a-0123";
    private const string KeyB = "quota-key-of-tenant-b-0123";
    private const int BlockBytes = 512 << 10;

    [Fact]
    public async Task A_tenants_hot_set_within_its_quota_survives_another_tenants_burst_far_beyond_its_own()
    {
        await using var server = await KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0",
            Memory = "64MiB",
            MaxBlock = "1MiB",
            Staging = "4MiB",
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "tenant-a", [KeyB] = "tenant-b" },
                Quotas = new Dictionary<string, string> { ["tenant-a"] = "8MiB" },
                DefaultQuota = "8MiB",
            },
        });
        using var a = new KvTierClient(server.Address, KeyA);
        using var b = new KvTierClient(server.Address, KeyB);
        var store = (BlockStore)server.Store;
        var hot = Enumerable.Range(0, 12).Select(_ => (Key: Blocks.RandomKey(), Payload: Blocks.Random(BlockBytes))).ToArray(); // 6 MiB
        foreach (var (key, payload) in hot)
        {
            await a.PutAsync(key, payload);
        }

        var burst = Enumerable.Range(0, (int)(8 * store.Layout.WindowBytes / BlockBytes)).Select(_ => Blocks.RandomKey()).ToArray();
        var noise = Blocks.Random(BlockBytes);
        foreach (var key in burst)
        {
            await b.PutAsync(key, noise);
        }

        foreach (var (key, payload) in hot)
        {
            Assert.Equal(payload, await a.GetAsync(key));
        }

        Assert.Null(await b.GetAsync(burst[0]));
        Assert.Equal(0, (await b.LookupAsync(burst[..10])).Prefix);
        Assert.NotNull(await b.GetAsync(burst[^1]));
        var usage = store.GetTenantUsage().ToDictionary(u => u.Tenant);
        Assert.Equal(8L << 20, usage["tenant-a"].QuotaBytes);
        Assert.Equal(8L << 20, usage["tenant-b"].QuotaBytes);
        Assert.InRange(usage["tenant-a"].DramBytes, 12L * BlockBytes, 8L << 20);
        Assert.True(store.GetStats().QuotaCopies >= hot.Length);
    }
}
