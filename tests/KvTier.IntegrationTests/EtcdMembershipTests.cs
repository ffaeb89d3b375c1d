using KvTier.Client;
using KvTier.Cluster.Tests;

namespace KvTier.IntegrationTests;

/// <summary>Three real sidecar processes that find each other through a real etcd.</summary>
public sealed class EtcdMembershipTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    [Fact]
    public async Task Three_sidecars_converge_through_etcd_and_serve_each_others_blocks()
    {
        var cluster = $"it-{Guid.NewGuid():N}"[..12];
        var (_, nodes) = await SidecarProcess.StartClusterAsync(3, (i, _) => ["--node-id", $"etcd-{i}", "--etcd", etcd.Url, "--cluster", cluster, "--replicas", "2"]);
        try
        {
            foreach (var node in nodes)
            {
                await FailoverTests.WaitForAsync(node, s => s.Members.Count(m => m.Up) == 3 && s.Membership == "etcd", "three members through etcd");
            }

            using var first = new KvTierClient(nodes[0].Address);
            using var last = new KvTierClient(nodes[2].Address);
            var key = new KvTier.Core.BlockHasher("0").HashChain(Enumerable.Range(7, 16).ToArray())[0];
            var payload = new byte[100_000];
            new Random(7).NextBytes(payload);
            await first.PutAsync(key, payload);
            Assert.Equal(payload, await last.GetAsync(key));
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_sidecar_with_another_hash_seed_is_refused_by_the_etcd_cluster()
    {
        var cluster = $"it-{Guid.NewGuid():N}"[..12];
        using var member = await SidecarProcess.StartAsync(SidecarProcess.FreeEndpoint(), "--node-id", "seed-0", "--etcd", etcd.Url, "--cluster", cluster);

        var (exitCode, stderr) = await SidecarProcess.RunToExitAsync(SidecarProcess.FreeEndpoint(),
            "--node-id", "seed-42", "--etcd", etcd.Url, "--cluster", cluster, "--hash-seed", "42");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--hash-seed", stderr, StringComparison.Ordinal);
    }
}
