using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class GetBatchTests
{
    [Fact]
    public async Task Batch_get_of_50_mixed_size_blocks_is_byte_identical_in_order_with_missing_keys_NotFound()
    {
        using var store = TestBlocks.Store(memory: 64L << 20);
        var (keys, payloads) = TestBlocks.Fill(store, MixedSizes(50, seed: 7));
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        // Every fifth request is a key the peer never had.
        var request = new List<BlockKey>();
        var expected = new List<int>();
        for (var i = 0; i < keys.Length; i++)
        {
            request.Add(keys[i]);
            expected.Add(i);
            if (i % 5 == 4)
            {
                request.Add(TestBlocks.Key(1000 + i));
                expected.Add(-1);
            }
        }

        var delivered = new List<(int Index, byte[] Bytes, long HeaderLength)>();
        var result = await client.GetBatchAsync(TestBlocks.Tenant, request, (index, header, payload) =>
        {
            delivered.Add((index, payload.ToArray(), header.PayloadLength));
            return ValueTask.CompletedTask;
        }).Guard();

        Assert.Null(result.Failure);
        Assert.Equal(50, result.Found);
        Assert.Equal(expected.Select(e => e < 0 ? BlockStatus.NotFound : BlockStatus.Ok), result.Statuses);
        Assert.Equal(Enumerable.Range(0, request.Count).Where(i => expected[i] >= 0), delivered.Select(d => d.Index));
        foreach (var (index, bytes, headerLength) in delivered)
        {
            Assert.Equal(payloads[expected[index]], bytes);
            Assert.Equal(bytes.Length, headerLength);
        }

        Assert.Equal(50, client.GetStats().BlocksReceived);
        Assert.Equal(50, server.GetStats().BlocksSent);
        Assert.Equal(0, client.GetStats().CorruptReceived);
    }

    [Fact]
    public async Task FetchIntoStore_stores_verified_blocks_in_the_local_store_with_their_ttl()
    {
        using var remote = TestBlocks.Store(memory: 64L << 20);
        using var local = TestBlocks.Store(memory: 64L << 20);
        var (keys, payloads) = TestBlocks.Fill(remote, MixedSizes(20, seed: 3));
        var expiring = TestBlocks.Key(500);
        Assert.Equal(BlockStatus.Ok, remote.Put(TestBlocks.Tenant, expiring, payloads[0], geometryFingerprint: 77, ttl: TimeSpan.FromHours(1)));
        await using var server = TestBlocks.Server(remote);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        var result = await client.FetchIntoStoreAsync(TestBlocks.Tenant, [.. keys, expiring, TestBlocks.Key(999)], local).Guard();

        Assert.Null(result.Failure);
        Assert.Equal([.. Enumerable.Repeat(BlockStatus.Ok, 21), BlockStatus.NotFound], result.Statuses);
        var buffer = new byte[4 << 20];
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(BlockStatus.Ok, local.Get(TestBlocks.Tenant, keys[i], buffer, out var info));
            Assert.Equal(payloads[i], buffer.AsSpan(0, (int)info.PayloadLength).ToArray());
        }

        Assert.Equal(BlockStatus.Ok, local.Peek(TestBlocks.Tenant, expiring, out var expiringInfo));
        Assert.NotEqual(0, expiringInfo.ExpiresUnixMs);
        Assert.Equal(77UL, expiringInfo.GeometryFingerprint);
        Assert.Equal(BlockStatus.NotFound, local.Peek(TestBlocks.Tenant, TestBlocks.Key(999), out _));
    }

    [Fact]
    public async Task Blocks_of_another_tenant_are_NotFound()
    {
        using var store = TestBlocks.Store();
        var (keys, _) = TestBlocks.Fill(store, [1000, 2000]);
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        var result = await client.GetBatchAsync("other", keys, (_, _, _) => ValueTask.CompletedTask).Guard();

        Assert.Equal([BlockStatus.NotFound, BlockStatus.NotFound], result.Statuses);
    }

    [Fact]
    public async Task Block_larger_than_the_clients_limit_is_TooLarge_and_the_connection_keeps_serving()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [2 << 20, 100]);
        await using var server = TestBlocks.Server(store);
        var options = TestBlocks.ClientOptions();
        options.MaxBlockBytes = 1 << 20;
        options.Connections = 1;
        await using var client = new PeerDataClient(server.Endpoint, options);
        var delivered = new List<byte[]>();

        var result = await client.GetBatchAsync(TestBlocks.Tenant, keys, (_, _, payload) =>
        {
            delivered.Add(payload.ToArray());
            return ValueTask.CompletedTask;
        }).Guard();

        Assert.Equal([BlockStatus.TooLarge, BlockStatus.Ok], result.Statuses);
        Assert.Equal(payloads[1], Assert.Single(delivered));
        Assert.Equal(1, client.GetStats().ConnectionsOpened);
    }

    [Fact]
    public async Task Caller_cancellation_stops_the_batch_with_OperationCanceledException()
    {
        using var store = TestBlocks.Store();
        var (keys, _) = TestBlocks.Fill(store, [1 << 20, 1 << 20, 1 << 20]);
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.HangAt(FrameType.Block, 2);
        await using var client = new PeerDataClient(proxy.Endpoint, TestBlocks.ClientOptions());
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetBatchAsync(TestBlocks.Tenant, keys, (_, _, _) =>
        {
            cancel.Cancel();
            return ValueTask.CompletedTask;
        }, cancel.Token)).Guard();
    }

    /// <summary>Sizes from 1 B to 2 MiB, spread evenly in log scale, always including both ends.</summary>
    internal static int[] MixedSizes(int count, int seed)
    {
        var random = new Random(seed);
        var sizes = new int[count];
        for (var i = 0; i < count; i++)
        {
            sizes[i] = i switch
            {
                0 => 1,
                1 => 2 << 20,
                _ => (int)Math.Clamp(Math.Pow(2, random.NextDouble() * 21), 1, 2 << 20),
            };
        }

        return sizes;
    }
}
