using KvTier.Core;
using KvTier.Server.Engine;
using KvTier.Store;
using KvTier.Transfer;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Server.Tests;

/// <summary>The offload/onload pipeline with a real store and a real shared-memory pool, under tight staging.</summary>
public sealed class TransferPipelineTests : IDisposable
{
    // 2 layers × 4 kv heads × 64 dim × fp32 × 16 tokens: 16 KiB chunks, 64 KiB blocks = one staging page.
    private static readonly ModelGeometry Geometry = new("pipe", 2, 4, 64, KvDType.Fp32, 16);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"kvtier-pipe-{Guid.NewGuid():N}");
    private readonly BlockStore _store = new(new StoreOptions { MemoryBytes = 32L << 20, MaxBlockBytes = 1 << 20 });
    private readonly PoolRegistry _pools = new(NullLogger.Instance);

    public void Dispose()
    {
        _pools.Dispose();
        _store.Dispose();
        File.Delete(_path);
    }

    [Fact]
    public async Task Blocks_move_between_a_host_pool_and_the_store_bit_exact_without_touching_staging()
    {
        using var staging = new StagingArena(StagingArena.PageBytes); // room for one block: the host path needs none
        var pipeline = new TransferPipeline(_store, staging);
        var pool = Register(KvPoolLayout.VllmPaged, seed: 1);
        var blocks = Enumerable.Range(0, 20).Select(i => (Key(i), Slot: i)).ToArray();

        var offloaded = await pipeline.OffloadAsync("default", pool, blocks, null, CancellationToken.None);
        Assert.All(offloaded, s => Assert.Equal(BlockStatus.Ok, s));
        Assert.Equal(0, staging.LeasedBytes);

        var original = File.ReadAllBytes(_path);
        unsafe
        {
            new Span<byte>(pool.Memory.Pointer, (int)pool.Spec.PoolBytes).Clear();
        }

        var reversed = blocks.Select(b => (b.Item1, Slot: 19 - b.Slot)).ToArray();
        var onloaded = await pipeline.OnloadAsync("default", pool, reversed, CancellationToken.None);
        Assert.All(onloaded, s => Assert.Equal(BlockStatus.Ok, s));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Block(original, pool.Spec, i), Block(File.ReadAllBytes(_path), pool.Spec, 19 - i));
        }
    }

    [Fact]
    public async Task Blocks_past_the_deadline_are_reported_as_timeout_and_their_slots_stay_untouched()
    {
        using var staging = new StagingArena(4 * StagingArena.PageBytes);
        var pipeline = new TransferPipeline(_store, staging);
        var pool = Register(KvPoolLayout.LayerMajor, seed: 2);
        var blocks = Enumerable.Range(0, 4).Select(i => (Key(100 + i), Slot: i)).ToArray();
        await pipeline.OffloadAsync("default", pool, blocks, null, CancellationToken.None);
        var before = File.ReadAllBytes(_path);

        using var expired = new CancellationTokenSource();
        await expired.CancelAsync();
        var results = await pipeline.OnloadAsync("default", pool, blocks.Select(b => (b.Item1, Slot: 10 + b.Slot)).ToArray(), expired.Token);

        Assert.All(results, s => Assert.Equal(BlockStatus.Timeout, s));
        Assert.Equal(before, File.ReadAllBytes(_path));
        Assert.Equal(0, staging.LeasedBytes);
    }

    [Fact]
    public async Task A_stored_block_whose_bytes_rotted_onloads_as_corrupt_is_dropped_and_leaves_its_slot_untouched()
    {
        using var staging = new StagingArena(4 * StagingArena.PageBytes);
        var pipeline = new TransferPipeline(_store, staging);
        var pool = Register(KvPoolLayout.VllmPaged, seed: 3);
        var block = new byte[pool.Spec.BlockBytes];
        unsafe
        {
            HostCopier.Gather(pool.Spec, pool.Memory.Pointer, 0, block);
        }

        Assert.Equal(BlockStatus.Ok, _store.PutWithFault("default", Key(200), block, flipOffset: 777, pool.Fingerprint));
        await pipeline.OffloadAsync("default", pool, [(Key(201), 1)], null, CancellationToken.None);
        var before = File.ReadAllBytes(_path);

        var results = await pipeline.OnloadAsync("default", pool, [(Key(200), 5), (Key(201), 6)], CancellationToken.None);

        Assert.Equal([BlockStatus.Corrupt, BlockStatus.Ok], results);
        Assert.Equal(Block(before, pool.Spec, 5), Block(File.ReadAllBytes(_path), pool.Spec, 5));
        Assert.Equal(Block(before, pool.Spec, 1), Block(File.ReadAllBytes(_path), pool.Spec, 6));
        Assert.Equal(1, _store.GetStats().Corruptions);
        Assert.Equal(BlockStatus.NotFound, _store.Peek("default", Key(200), out _)); // dropped: the next read is a plain miss
        Assert.Equal(0, staging.LeasedBytes);
    }

    private RegisteredPool Register(KvPoolLayout layout, int seed)
    {
        var spec = new KvPoolSpec(Geometry, layout, numBlocks: 32);
        SharedMemoryPool.Create(_path, spec.PoolBytes);
        var bytes = new byte[spec.PoolBytes];
        new Random(seed).NextBytes(bytes);
        File.WriteAllBytes(_path, bytes);
        return _pools.Add(spec, new SharedMemoryPool(_path, spec.PoolBytes));
    }

    private static unsafe byte[] Block(byte[] pool, KvPoolSpec spec, int slot)
    {
        var block = new byte[spec.BlockBytes];
        fixed (byte* p = pool)
        {
            HostCopier.Gather(spec, p, slot, block);
        }

        return block;
    }

    private static BlockKey Key(int i)
    {
        Span<byte> bytes = stackalloc byte[BlockKey.Size];
        BitConverter.TryWriteBytes(bytes, i);
        System.Security.Cryptography.SHA256.HashData(bytes[..4], bytes);
        return new BlockKey(bytes);
    }
}
