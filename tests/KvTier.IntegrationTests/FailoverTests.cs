using KvTier.Client;
using KvTier.Core;

namespace KvTier.IntegrationTests;

/// <summary>Three real sidecar processes with static membership: failover, re-replication, refusal of a foreign seed.</summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private const int BlockBytes = 64 << 10;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);
    private readonly List<SidecarProcess> _nodes = [];
    private string[] _endpoints = [];

    public async Task InitializeAsync()
    {
        (_endpoints, var nodes) = await SidecarProcess.StartClusterAsync(3, (i, endpoints) =>
            ["--node-id", $"node-{(char)('a' + i)}", "--peers", string.Join(',', endpoints), "--replicas", "2", "--write-ack", "one"]);
        _nodes.AddRange(nodes);
        foreach (var node in _nodes)
        {
            await WaitForAsync(node, s => s.Members.Count(m => m.Up) == 3, "all three members up");
        }
    }

    public Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Killing_the_writer_under_load_loses_no_acknowledged_block_and_re_replication_restores_two_copies()
    {
        using var writer = new KvTierClient(_nodes[0].Address);
        var acknowledged = new List<int>();
        for (var i = 0; i < 80; i++)
        {
            if (i == 40)
            {
                _nodes[0].Kill(); // kill -9 in the middle of the load
            }

            try
            {
                await writer.PutAsync(Key(i), Payload(i));
                acknowledged.Add(i);
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
            {
                // Not acknowledged: the writer is gone (a call cut mid-stream surfaces as an IOException). Only
                // acknowledged blocks are promised.
            }
        }

        Assert.InRange(acknowledged.Count, 40, 41);
        using var b = new KvTierClient(_nodes[1].Address);
        using var c = new KvTierClient(_nodes[2].Address);
        await WaitForAsync(_nodes[1], s => s.Members.Single(m => m.Node.NodeId == "node-a").Up == false, "node-a down, as node-b sees it");
        await WaitForAsync(_nodes[2], s => s.Members.Single(m => m.Node.NodeId == "node-a").Up == false, "node-a down, as node-c sees it");

        // Every acknowledged block is still served, byte for byte, by the survivors; lookups keep answering.
        foreach (var i in acknowledged)
        {
            byte[]? got;
            try
            {
                got = await b.GetAsync(Key(i));
            }
            catch (Grpc.Core.RpcException e)
            {
                Assert.Fail($"block {i} from node-b: {e.Status}\n{_nodes[1].Logs}");
                throw;
            }

            Assert.Equal(Payload(i), got);
        }

        Assert.Equal(acknowledged.Count, (await c.LookupAsync(acknowledged.Select(Key).ToArray())).Prefix);

        // With A gone, B and C own every block: re-replication gives each of them a copy.
        await WaitForAsync(_nodes[1], s => s.Members.Where(m => m.Up).All(m => (int)m.Node.DramBlocks >= acknowledged.Count),
            "both survivors holding every acknowledged block");
    }

    [Fact]
    public async Task A_node_with_another_hash_seed_refuses_to_join_and_says_why()
    {
        var (exitCode, stderr) = await SidecarProcess.RunToExitAsync(SidecarProcess.FreeEndpoint(),
            "--node-id", "node-x", "--peers", string.Join(',', _endpoints), "--hash-seed", "42");

        Assert.NotEqual(0, exitCode);
        Assert.True(stderr.Contains("--hash-seed", StringComparison.Ordinal), stderr);
        Assert.Contains(BlockHasher.SeedFingerprintOf("42"), stderr, StringComparison.Ordinal);
    }

    internal static async Task WaitForAsync(SidecarProcess node, Func<Protos.V1.ClusterStatusResponse, bool> condition, string what)
    {
        using var client = new KvTierClient(node.Address);
        var until = DateTime.UtcNow + Deadline;
        Protos.V1.ClusterStatusResponse? last = null;
        while (DateTime.UtcNow < until)
        {
            try
            {
                last = await client.ClusterStatusAsync();
                if (condition(last))
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // still starting
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{what}: not reached within {Deadline}; last status: {last}\n{node.Logs}");
    }

    private static BlockKey Key(int i) => new BlockHasher("0").HashChain(Enumerable.Range(i * 16, 16).ToArray())[0];

    private static byte[] Payload(int i)
    {
        var bytes = new byte[BlockBytes];
        new Random(i).NextBytes(bytes);
        return bytes;
    }
}
