using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class IntegrityTests
{
    private static readonly int[] Sizes = [100, 2 << 20, 300 << 10, 2 << 20, 10, 1 << 20];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Byte_flipped_in_transit_is_Corrupt_not_stored_and_counted_while_the_rest_succeed(int corruptBlock)
    {
        using var remote = TestBlocks.Store(memory: 64L << 20);
        using var local = TestBlocks.Store(memory: 64L << 20);
        var (keys, payloads) = TestBlocks.Fill(remote, Sizes);
        await using var server = TestBlocks.Server(remote);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.CorruptPayload(FrameType.Block, corruptBlock);
        await using var client = new PeerDataClient(proxy.Endpoint, TestBlocks.ClientOptions());

        var result = await client.FetchIntoStoreAsync(TestBlocks.Tenant, keys, local).Guard();

        Assert.Null(result.Failure);
        var bad = corruptBlock - 1;
        Assert.Equal(Sizes.Select((_, i) => i == bad ? BlockStatus.Corrupt : BlockStatus.Ok), result.Statuses);
        Assert.Equal(BlockStatus.NotFound, local.Peek(TestBlocks.Tenant, keys[bad], out _));
        var buffer = new byte[4 << 20];
        for (var i = 0; i < keys.Length; i++)
        {
            if (i != bad)
            {
                Assert.Equal(BlockStatus.Ok, local.Get(TestBlocks.Tenant, keys[i], buffer, out var info));
                Assert.Equal(payloads[i], buffer.AsSpan(0, (int)info.PayloadLength).ToArray());
            }
        }

        Assert.Equal(1, client.GetStats().CorruptReceived);
        Assert.Equal(Sizes.Length - 1, client.GetStats().BlocksReceived);
    }

    [Fact]
    public async Task Byte_flipped_in_transit_is_never_handed_to_the_callback()
    {
        using var remote = TestBlocks.Store(memory: 64L << 20);
        var (keys, payloads) = TestBlocks.Fill(remote, Sizes);
        await using var server = TestBlocks.Server(remote);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.CorruptPayload(FrameType.Block, 4);
        await using var client = new PeerDataClient(proxy.Endpoint, TestBlocks.ClientOptions());
        var delivered = new Dictionary<int, byte[]>();

        var result = await client.GetBatchAsync(TestBlocks.Tenant, keys, (index, _, payload) =>
        {
            delivered.Add(index, payload.ToArray());
            return ValueTask.CompletedTask;
        }).Guard();

        Assert.Equal(BlockStatus.Corrupt, result.Statuses[3]);
        Assert.Equal([0, 1, 2, 4, 5], delivered.Keys.Order());
        foreach (var (index, bytes) in delivered)
        {
            Assert.Equal(payloads[index], bytes);
        }

        Assert.Equal(1, client.GetStats().CorruptReceived);
    }
}
