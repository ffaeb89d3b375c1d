using System.Net.Sockets;
using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class ConnectionTests
{
    [Fact]
    public async Task Eight_concurrent_callers_over_a_pool_of_four_connections_all_succeed()
    {
        using var store = TestBlocks.Store(memory: 64L << 20);
        var (keys, payloads) = TestBlocks.Fill(store, Enumerable.Range(0, 16).Select(i => (i + 1) * 64 << 10).ToArray());
        await using var server = TestBlocks.Server(store);
        var options = TestBlocks.ClientOptions();
        options.Connections = 4;
        await using var client = new PeerDataClient(server.Endpoint, options);

        var callers = Enumerable.Range(0, 8).Select(async caller =>
        {
            var mismatches = 0;
            for (var round = 0; round < 3; round++)
            {
                var result = await client.GetBatchAsync(TestBlocks.Tenant, keys, (index, _, payload) =>
                {
                    mismatches += payload.Span.SequenceEqual(payloads[index]) ? 0 : 1;
                    return ValueTask.CompletedTask;
                });
                Assert.Null(result.Failure);
                Assert.All(result.Statuses, s => Assert.Equal(BlockStatus.Ok, s));
            }

            return mismatches;
        });

        var results = await Task.WhenAll(callers).Guard();

        Assert.All(results, m => Assert.Equal(0, m));
        Assert.InRange(client.GetStats().ConnectionsOpened, 1, 4);
        Assert.Equal(8 * 3 * 16, client.GetStats().BlocksReceived);
    }

    [Fact]
    public async Task Garbage_instead_of_a_hello_closes_that_connection_and_the_server_serves_a_new_one()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [1000]);
        await using var server = TestBlocks.Server(store);

        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await raw.ConnectAsync(server.Endpoint);
            await raw.SendAsync(Enumerable.Repeat((byte)0xEE, 64).ToArray());
            var reply = await ReadToEndAsync(raw).Guard();
            Assert.True(reply.Length >= FrameHeader.Size);
            Assert.Equal(FrameType.Error, FrameHeader.Read(reply).Type);
        }

        await AssertServesAsync(server, keys, payloads);
        Assert.Equal(1, server.GetStats().ProtocolErrors);
    }

    [Fact]
    public async Task Garbage_frame_after_the_handshake_closes_that_connection_and_the_server_serves_a_new_one()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [1000]);
        await using var server = TestBlocks.Server(store);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Endpoint);
        await using (var connection = new PeerConnection(socket, new PeerDataCounters(), 64 << 10))
        {
            var timeout = TimeSpan.FromSeconds(10);
            var options = TestBlocks.ClientOptions();
            await PeerHandshake.ConnectAsync(connection, new PeerIdentity(options.ClusterName, options.SeedFingerprint, "raw", null), timeout);
            var garbage = connection.Writer.GetSpan(FrameHeader.Size);
            garbage[..FrameHeader.Size].Fill(0x7F);
            connection.Writer.Advance(FrameHeader.Size);
            await connection.FlushAsync(timeout);

            var header = await connection.ReadHeaderAsync(timeout).AsTask().Guard();
            var (code, _) = await connection.ReadErrorAsync(header!.Value, timeout);
            Assert.Equal(PeerRefusal.ProtocolViolation, code);
            Assert.Null(await connection.ReadHeaderAsync(timeout).AsTask().Guard());
        }

        await AssertServesAsync(server, keys, payloads);
        Assert.Equal(1, server.GetStats().ProtocolErrors);
    }

    [Fact]
    public async Task Request_with_an_oversized_key_count_closes_only_that_connection()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [1000]);
        await using var server = TestBlocks.Server(store);
        await using var healthy = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());
        await healthy.ConnectAsync().Guard();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Endpoint);
        await using (var connection = new PeerConnection(socket, new PeerDataCounters(), 64 << 10))
        {
            var timeout = TimeSpan.FromSeconds(10);
            var options = TestBlocks.ClientOptions();
            await PeerHandshake.ConnectAsync(connection, new PeerIdentity(options.ClusterName, options.SeedFingerprint, "raw", null), timeout);
            // Claims a million keys in a body that holds none.
            var body = connection.StartFrame(FrameType.GetRequest, 2 + 1 + 4, 1);
            PeerProtocol.WriteString(body, "t");
            BitConverter.TryWriteBytes(body[3..], 1_000_000);
            connection.CommitFrame(7);
            await connection.FlushAsync(timeout);

            var header = await connection.ReadHeaderAsync(timeout).AsTask().Guard();
            Assert.Equal(FrameType.Error, header!.Value.Type);
        }

        await AssertServesAsync(server, keys, payloads, healthy);
    }

    [Fact]
    public async Task Server_over_its_connection_limit_refuses_with_Busy()
    {
        using var store = TestBlocks.Store();
        var serverOptions = TestBlocks.ServerOptions();
        serverOptions.MaxConnections = 1;
        await using var server = TestBlocks.Server(store, serverOptions);
        await using var first = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());
        await first.ConnectAsync().Guard();
        await using var second = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        var e = await Assert.ThrowsAsync<PeerHandshakeException>(() => second.ExistsAsync(TestBlocks.Tenant, [TestBlocks.Key(1)])).Guard();

        Assert.Equal(PeerRefusal.Busy, e.Refusal);
        Assert.Contains("limit of 1 peer connections", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pooled_connection_the_peer_dropped_while_idle_is_retried_once_on_a_fresh_connection()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [1000, 200_000]);
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        var options = TestBlocks.ClientOptions();
        options.Connections = 1;
        await using var client = new PeerDataClient(proxy.Endpoint, options);
        await client.ConnectAsync().Guard();
        proxy.DropConnections();
        var delivered = new List<byte[]>();

        var result = await client.GetBatchAsync(TestBlocks.Tenant, keys, (_, _, payload) =>
        {
            delivered.Add(payload.ToArray());
            return ValueTask.CompletedTask;
        }).Guard();
        var present = await client.ExistsAsync(TestBlocks.Tenant, keys).Guard();

        Assert.Null(result.Failure);
        Assert.Equal(payloads, delivered);
        Assert.Equal([true, true], present);
        Assert.Equal(2, client.GetStats().ConnectionsOpened);
    }

    [Fact]
    public async Task Empty_batches_answer_at_once_without_connecting()
    {
        await using var client = new PeerDataClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), TestBlocks.ClientOptions());

        var result = await client.GetBatchAsync(TestBlocks.Tenant, [], (_, _, _) => ValueTask.CompletedTask);
        var present = await client.ExistsAsync(TestBlocks.Tenant, []);

        Assert.Empty(result.Statuses);
        Assert.Empty(present);
        Assert.Equal(0, client.GetStats().ConnectionsOpened);
    }

    [Fact]
    public void Invalid_options_are_refused_with_a_message_naming_the_setting_and_the_fix()
    {
        var client = TestBlocks.ClientOptions();
        client.Connections = 0;
        var server = TestBlocks.ServerOptions();
        server.ClusterSecret = "";

        var clientError = Assert.Throws<ArgumentException>(client.Validate);
        var serverError = Assert.Throws<ArgumentException>(server.Validate);

        Assert.Contains("Connections 0", clientError.Message, StringComparison.Ordinal);
        Assert.Contains(PeerHandshake.SecretSetting, serverError.Message, StringComparison.Ordinal);
    }

    private static async Task AssertServesAsync(PeerDataServer server, BlockKey[] keys, byte[][] payloads, PeerDataClient? client = null)
    {
        await using var fresh = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());
        var delivered = new List<byte[]>();
        var result = await (client ?? fresh).GetBatchAsync(TestBlocks.Tenant, keys, (_, _, payload) =>
        {
            delivered.Add(payload.ToArray());
            return ValueTask.CompletedTask;
        }).Guard();
        Assert.Null(result.Failure);
        Assert.Equal(payloads, delivered);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        return received.ToArray();
    }
}
