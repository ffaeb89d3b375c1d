using KvTier.Core;
using KvTier.Server.Operations;
using KvTier.Store;
using Microsoft.Extensions.Time.Testing;

namespace KvTier.Server.Tests;

public sealed class ScrubServiceTests
{
    [Fact]
    public async Task Each_second_the_service_verifies_its_rate_of_bytes_and_drops_damage_nobody_read()
    {
        using var store = new BlockStore(new StoreOptions { MemoryBytes = 16L << 20, MaxBlockBytes = 256 << 10 });
        var time = new FakeTimeProvider();
        var key = new BlockKey(new byte[BlockKey.Size]);
        Assert.Equal(BlockStatus.Ok, store.Put("default", new BlockKey(Enumerable.Repeat((byte)1, BlockKey.Size).ToArray()), new byte[4096]));
        Assert.Equal(BlockStatus.Ok, store.PutWithFault("default", key, new byte[4096], flipOffset: 100));
        using var service = new ScrubService(store, bytesPerSecond: 4096, time);
        await service.StartAsync(CancellationToken.None);

        // The first second verifies the first block only; the next one reaches the damaged block.
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => store.GetStats().ScrubbedBytes >= 4096);
        Assert.Equal(4096, store.GetStats().ScrubbedBytes);
        Assert.Equal(0, store.GetStats().Corruptions);
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => store.GetStats().ScrubbedBytes >= 8192);

        Assert.Equal(1, store.GetStats().Corruptions);
        Assert.Equal(BlockStatus.NotFound, store.Peek("default", key, out _));
        await service.StopAsync(CancellationToken.None);
    }

    // Bounded: the timer's callback runs on the thread pool after the fake clock moves.
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }
    }
}
