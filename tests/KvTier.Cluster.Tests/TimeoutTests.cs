using System.Net;
using System.Net.Sockets;
using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class TimeoutTests
{
    [Fact]
    public async Task Peer_hanging_mid_batch_times_out_and_the_unanswered_keys_are_Timeout()
    {
        using var store = TestBlocks.Store();
        var (keys, payloads) = TestBlocks.Fill(store, [512 << 10, 512 << 10, 512 << 10, 512 << 10, 512 << 10]);
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.HangAt(FrameType.Block, 3);
        var options = TestBlocks.ClientOptions();
        // Long enough for the blocks that do flow on a loaded machine; the third one never comes.
        options.RequestTimeout = TimeSpan.FromSeconds(5);
        await using var client = new PeerDataClient(proxy.Endpoint, options);
        var delivered = new List<byte[]>();

        var result = await client.GetBatchAsync(TestBlocks.Tenant, keys, (_, _, payload) =>
        {
            delivered.Add(payload.ToArray());
            return ValueTask.CompletedTask;
        }).Guard();

        Assert.Equal([BlockStatus.Ok, BlockStatus.Ok, BlockStatus.Timeout, BlockStatus.Timeout, BlockStatus.Timeout], result.Statuses);
        Assert.IsType<PeerTimeoutException>(result.Failure);
        Assert.Equal(payloads.Take(2), delivered);
        Assert.Equal(1, client.GetStats().Timeouts);
    }

    [Fact]
    public async Task Exists_against_a_peer_that_stopped_answering_throws_PeerTimeoutException()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        var options = TestBlocks.ClientOptions();
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);
        await using var client = new PeerDataClient(proxy.Endpoint, options);
        await client.ConnectAsync().Guard();
        proxy.HangAll();

        await Assert.ThrowsAsync<PeerTimeoutException>(() => client.ExistsAsync(TestBlocks.Tenant, [TestBlocks.Key(1)])).Guard();
    }

    [Fact]
    public async Task Peer_that_accepts_but_never_answers_the_handshake_times_out_on_connect()
    {
        // A listener nobody accepts from: the kernel completes the TCP connect, then nothing is ever said.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(8);
        var options = TestBlocks.ClientOptions();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(500);
        await using var client = new PeerDataClient(silent.LocalEndPoint!, options);

        var e = await Assert.ThrowsAsync<PeerTimeoutException>(() => client.ConnectAsync()).Guard();

        Assert.Contains("handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_to_a_peer_that_stopped_answering_throws_PeerTimeoutException()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        await using var proxy = new FaultProxy(server.Endpoint);
        proxy.HangAt(FrameType.PutResponse, 1);
        var options = TestBlocks.ClientOptions();
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);
        await using var client = new PeerDataClient(proxy.Endpoint, options);

        await Assert.ThrowsAsync<PeerTimeoutException>(
            () => client.PutAsync(TestBlocks.Tenant, TestBlocks.Key(1), TestBlocks.Payload(1, 1000))).Guard();
    }
}
