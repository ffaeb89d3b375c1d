using KvTier.Cluster.DataPlane;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Cluster.Tests;

/// <summary>
/// A server sends large blocks straight from the store's memory; when the receiver stops reading, the socket fills
/// mid-block and the rest must still arrive whole, or, if the block changed meanwhile, not at all.
/// </summary>
public sealed class InPlaceSendTests : IAsyncDisposable
{
    // More than the kernel can buffer between the two ends (send buffer + receive buffer at their autotuned maxima),
    // so the server is certain to find the socket full mid-block while the receiver does not read.
    private static readonly int BigBlock = SocketBufferCeiling() + (8 << 20);

    private readonly BlockStore _store = TestBlocks.Store(memory: 512L << 20, maxBlock: BigBlock);
    private readonly PeerDataServer _server;
    private readonly PeerDataClient _client;
    private readonly BlockKey _small = TestBlocks.Key(0);
    private readonly BlockKey _big = TestBlocks.Key(1);
    private readonly TaskCompletionSource _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[]?[] _received = new byte[2][];

    public InPlaceSendTests()
    {
        var serverOptions = TestBlocks.ServerOptions();
        serverOptions.MaxBlockBytes = BigBlock;
        _server = TestBlocks.Server(_store, serverOptions);
        var clientOptions = TestBlocks.ClientOptions();
        clientOptions.MaxBlockBytes = BigBlock;
        _client = new PeerDataClient(_server.Endpoint, clientOptions);
        Assert.Equal(BlockStatus.Ok, _store.Put(TestBlocks.Tenant, _small, TestBlocks.Payload(0, 4096)));
        Assert.Equal(BlockStatus.Ok, _store.Put(TestBlocks.Tenant, _big, TestBlocks.Payload(1, BigBlock)));
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task A_block_larger_than_the_socket_buffers_reaches_a_receiver_that_paused_whole_once_it_reads_again()
    {
        var fetch = FetchBothAsync();
        await StalledMidBlockAsync();
        _reading.SetResult();
        var result = await fetch.Guard();

        Assert.Null(result.Failure);
        Assert.All(result.Statuses, s => Assert.Equal(BlockStatus.Ok, s));
        Assert.Equal(TestBlocks.Payload(1, BigBlock), _received[1]);
        Assert.Equal(2, _server.GetStats().BlocksSent);
    }

    [Fact]
    public async Task A_block_replaced_while_it_is_being_sent_ends_the_connection_and_no_mixed_bytes_are_handed_out()
    {
        var fetch = FetchBothAsync();
        await StalledMidBlockAsync();
        Assert.Equal(BlockStatus.Ok, _store.Put(TestBlocks.Tenant, _big, TestBlocks.Payload(2, BigBlock)));
        _reading.SetResult();
        var result = await fetch.Guard();

        Assert.Equal(BlockStatus.Ok, result.Statuses[0]);
        Assert.NotEqual(BlockStatus.Ok, result.Statuses[1]);
        Assert.NotNull(result.Failure);
        Assert.Null(_received[1]);

        // The server goes on serving: a new request gets the new version whole.
        byte[]? again = null;
        var retry = await _client.GetBatchAsync(TestBlocks.Tenant, [_big], (_, _, payload) =>
        {
            again = payload.ToArray();
            return ValueTask.CompletedTask;
        }).Guard();
        Assert.Equal(BlockStatus.Ok, retry.Statuses[0]);
        Assert.Equal(TestBlocks.Payload(2, BigBlock), again);
    }

    // The receiver keeps the small block's handler waiting, so it reads nothing more until _reading completes.
    private Task<PeerBatchResult> FetchBothAsync() => _client.GetBatchAsync(TestBlocks.Tenant, [_small, _big], async (index, _, payload) =>
    {
        if (index == 0)
        {
            await _reading.Task;
        }

        _received[index] = payload.ToArray();
    });

    private async Task StalledMidBlockAsync()
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (_server.GetStats().SendStalls == 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        Assert.True(_server.GetStats().SendStalls > 0, "the server never found the socket full while the receiver paused");
    }

    private static int SocketBufferCeiling()
    {
        static int Max(string path, int fallback) =>
            File.Exists(path) && File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is [_, _, var max]
                ? int.Parse(max, System.Globalization.CultureInfo.InvariantCulture)
                : fallback;

        return Max("/proc/sys/net/ipv4/tcp_rmem", 32 << 20) + Max("/proc/sys/net/ipv4/tcp_wmem", 4 << 20);
    }
}
