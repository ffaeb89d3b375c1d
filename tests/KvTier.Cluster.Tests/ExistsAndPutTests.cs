using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class ExistsAndPutTests
{
    [Fact]
    public async Task Exists_batch_reports_a_presence_flag_per_key_in_order()
    {
        using var store = TestBlocks.Store();
        var (keys, _) = TestBlocks.Fill(store, [10, 20, 30]);
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        var present = await client.ExistsAsync(TestBlocks.Tenant,
            [keys[0], TestBlocks.Key(100), keys[1], TestBlocks.Key(101), keys[2]]).Guard();
        var otherTenant = await client.ExistsAsync("other", keys).Guard();

        Assert.Equal([true, false, true, false, true], present);
        Assert.Equal([false, false, false], otherTenant);
    }

    [Fact]
    public async Task Exists_batch_longer_than_one_request_is_split_and_answered_in_full()
    {
        using var store = TestBlocks.Store();
        var (keys, _) = TestBlocks.Fill(store, [1, 1]);
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());
        var request = Enumerable.Range(0, PeerProtocol.MaxKeysPerRequest + 10).Select(i => TestBlocks.Key(10_000 + i)).ToList();
        request[3] = keys[0];
        request[PeerProtocol.MaxKeysPerRequest + 5] = keys[1];

        var present = await client.ExistsAsync(TestBlocks.Tenant, request).Guard();

        Assert.Equal([3, PeerProtocol.MaxKeysPerRequest + 5], Enumerable.Range(0, present.Length).Where(i => present[i]));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(2 << 20)]
    public async Task Put_round_trip_stores_the_block_on_the_peer(int size)
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());
        var payload = TestBlocks.Payload(1, size);

        var status = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(1), payload, geometryFingerprint: 9, ttl: TimeSpan.FromHours(1)).Guard();

        Assert.Equal(BlockStatus.Ok, status);
        var buffer = new byte[4 << 20];
        Assert.Equal(BlockStatus.Ok, store.Get(TestBlocks.Tenant, TestBlocks.Key(1), buffer, out var info));
        Assert.Equal(payload, buffer.AsSpan(0, (int)info.PayloadLength).ToArray());
        Assert.Equal(9UL, info.GeometryFingerprint);
        Assert.NotEqual(0, info.ExpiresUnixMs);
        Assert.Equal(1, server.GetStats().BlocksReceived);
    }

    [Fact]
    public async Task Put_with_a_corrupted_payload_is_refused_not_stored_and_the_connection_keeps_serving()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        var options = TestBlocks.ClientOptions();
        options.Connections = 1;
        await using var client = new PeerDataClient(server.Endpoint, options);
        var payload = TestBlocks.Payload(1, 1 << 20);
        var header = BlockHeader.For(payload, 0, 0);
        var damaged = payload.ToArray();
        damaged[12345] ^= 1;

        var status = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(1), header, damaged).Guard();
        var next = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(2), payload).Guard();

        Assert.Equal(BlockStatus.Corrupt, status);
        Assert.Equal(BlockStatus.NotFound, store.Peek(TestBlocks.Tenant, TestBlocks.Key(1), out _));
        Assert.Equal(BlockStatus.Ok, next);
        Assert.Equal(1, server.GetStats().CorruptReceived);
        Assert.Equal(1, server.GetStats().BlocksReceived);
        Assert.Equal(1, client.GetStats().ConnectionsOpened);
    }

    [Fact]
    public async Task Put_corrupted_in_transit_is_refused_and_not_stored()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.CorruptPayload(FrameType.PutRequest, 1);
        await using var client = new PeerDataClient(proxy.Endpoint, TestBlocks.ClientOptions());

        var status = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(1), TestBlocks.Payload(1, 2 << 20)).Guard();

        Assert.Equal(BlockStatus.Corrupt, status);
        Assert.Equal(BlockStatus.NotFound, store.Peek(TestBlocks.Tenant, TestBlocks.Key(1), out _));
        Assert.Equal(1, server.GetStats().CorruptReceived);
    }

    [Fact]
    public async Task Put_larger_than_the_servers_limit_is_TooLarge_and_the_connection_keeps_serving()
    {
        using var store = TestBlocks.Store();
        var serverOptions = TestBlocks.ServerOptions();
        serverOptions.MaxBlockBytes = 1 << 20;
        await using var server = TestBlocks.Server(store, serverOptions);
        var options = TestBlocks.ClientOptions();
        options.Connections = 1;
        await using var client = new PeerDataClient(server.Endpoint, options);

        var tooLarge = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(1), TestBlocks.Payload(1, 2 << 20)).Guard();
        var fits = await client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(2), TestBlocks.Payload(2, 1 << 20)).Guard();

        Assert.Equal(BlockStatus.TooLarge, tooLarge);
        Assert.Equal(BlockStatus.Ok, fits);
        Assert.Equal(BlockStatus.NotFound, store.Peek(TestBlocks.Tenant, TestBlocks.Key(1), out _));
        Assert.Equal(1, client.GetStats().ConnectionsOpened);
    }
}
