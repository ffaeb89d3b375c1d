using System.Diagnostics;
using KvTier.Core;
using KvTier.Server.Operations;
using KvTier.Store;
using KvTier.Transfer;

namespace KvTier.Server.Engine;

/// <summary>
/// Moves blocks between an engine's pool and the store without staging copies: offload gathers each block straight
/// into its store record, and onload verifies each block where it lies in the store and scatters it straight into its
/// slot. Blocks are independent, so a worker per core takes them in turn. Nothing is allocated per block; staging is
/// used only to read back a block found damaged (the verified read that counts and drops it).
/// </summary>
public sealed class TransferPipeline
{
    private static readonly BlockLender<OnloadSlot> s_scatter = Scatter;

    private readonly IBlockStore _store;
    private readonly StagingArena _staging;
    private readonly ServerMetrics _metrics;

    /// <summary>A pipeline between engine pools and <paramref name="store"/> through <paramref name="staging"/>.</summary>
    public TransferPipeline(IBlockStore store, StagingArena staging)
        : this(store, staging, new ServerMetrics("standalone", 1))
    {
    }

    internal TransferPipeline(IBlockStore store, StagingArena staging, ServerMetrics metrics)
    {
        _store = store;
        _staging = staging;
        _metrics = metrics;
    }

    /// <summary>Gathers each (key, slot) from the pool and stores it. Results are per block, in request order.</summary>
    /// <remarks>
    /// Each block is gathered straight into its store record (one copy, then the store's checksum pass). Blocks are
    /// independent, so one worker per core takes them in turn.
    /// </remarks>
    public Task<BlockStatus[]> OffloadAsync(string tenant, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        TimeSpan? ttl, CancellationToken cancellationToken)
    {
        return EachBlockAsync(pool, blocks, () =>
        {
            var gather = new SlotGather(pool);
            return block =>
            {
                gather.Slot = block.Slot;
                var status = _store.PutFrom(tenant, block.Key, gather, pool.Fingerprint, ttl);
                if (status == BlockStatus.Ok)
                {
                    _metrics.Offload(pool.Spec.BlockBytes);
                }

                return ValueTask.FromResult(status);
            };
        }, cancellationToken);
    }

    /// <summary>
    /// Reads each cached block (verified) and scatters it into its slot. A block that is not Ok leaves its slot untouched.
    /// </summary>
    public Task<BlockStatus[]> OnloadAsync(string tenant, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        CancellationToken cancellationToken) => OnloadAsync([tenant], pool, blocks, cancellationToken);

    /// <summary>
    /// <see cref="OnloadAsync(string, RegisteredPool, IReadOnlyList{ValueTuple{BlockKey, int}}, CancellationToken)"/>, each block
    /// read from the first of <paramref name="namespaces"/> that holds it (a tenant's own, then <c>shared</c>).
    /// </summary>
    /// <remarks>
    /// Each block is verified where it lies in the store and scattered from there straight into its slot: no staging
    /// copy. Blocks are independent, so one worker per core takes them in turn.
    /// </remarks>
    public Task<BlockStatus[]> OnloadAsync(IReadOnlyList<string> namespaces, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(namespaces.Count);
        return EachBlockAsync(pool, blocks, () => block => OnloadOneAsync(namespaces, pool, block), cancellationToken);
    }

    // Runs `step` on every block, one worker per core taking blocks in turn (each worker makes its own step). Results
    // are per block, in request order; a deadline leaves the blocks not yet started at Timeout.
    private static async Task<BlockStatus[]> EachBlockAsync(RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        Func<Func<(BlockKey Key, int Slot), ValueTask<BlockStatus>>> makeStep, CancellationToken cancellationToken)
    {
        var results = Prepare(pool, blocks);
        var next = -1;
        var workers = Math.Clamp(blocks.Count, 1, Environment.ProcessorCount);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            var step = makeStep();
            for (int i; !cancellationToken.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < blocks.Count;)
            {
                results[i] = await step(blocks[i]).ConfigureAwait(false);
            }
        }, CancellationToken.None))).ConfigureAwait(false);
        return results;
    }

    private async ValueTask<BlockStatus> OnloadOneAsync(IReadOnlyList<string> namespaces, RegisteredPool pool, (BlockKey Key, int Slot) block)
    {
        var started = Stopwatch.GetTimestamp();
        var onload = new OnloadSlot(pool, block.Slot);
        var status = BlockStatus.NotFound;
        for (var n = 0; n < namespaces.Count && status == BlockStatus.NotFound; n++)
        {
            status = _store.Lend(namespaces[n], block.Key, ref onload, s_scatter, out _);
            if (status == BlockStatus.Ok && onload.Result == BlockStatus.Corrupt)
            {
                // The stored bytes do not match their checksum: a verified read counts the damage and drops the record,
                // and nothing was scattered.
                using (var staged = await _staging.RentAsync(pool.Spec.BlockBytes, CancellationToken.None).ConfigureAwait(false))
                {
                    status = _store.Get(namespaces[n], block.Key, staged.Span, out _);
                }

                // Gone meanwhile is a plain miss; anything else reports the damage (a record too large for staging
                // stays for the scrub to drop).
                return status == BlockStatus.NotFound ? status : BlockStatus.Corrupt;
            }
        }

        if (status != BlockStatus.Ok)
        {
            return status;
        }

        if (onload.Result == BlockStatus.Ok)
        {
            _metrics.LocalFetch(started);
            _metrics.Onload(pool.Spec.BlockBytes);
        }

        return onload.Result;
    }

    // Runs inside the store's lend: checks the block fits the pool and is intact, then scatters it into its slot.
    private static void Scatter(in BlockInfo info, ReadOnlySpan<byte> payload, ref OnloadSlot onload)
    {
        var pool = onload.Pool;
        if (BlockChecksum.Compute(payload) != info.PayloadChecksum)
        {
            onload.Result = BlockStatus.Corrupt;
        }
        else if (info.PayloadLength != pool.Spec.BlockBytes || info.GeometryFingerprint != pool.Fingerprint)
        {
            onload.Result = BlockStatus.GeometryMismatch;
        }
        else if (!pool.IsAlive)
        {
            // The engine died while the block was read: never write into a pool that is gone.
            onload.Result = BlockStatus.NotFound;
        }
        else
        {
            unsafe
            {
                HostCopier.Scatter(pool.Spec, payload, pool.Memory.Pointer, onload.Slot);
            }

            onload.Result = BlockStatus.Ok;
        }
    }

    private static BlockStatus[] Prepare(RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks)
    {
        foreach (var (_, slot) in blocks)
        {
            pool.Spec.CheckSlot(slot);
        }

        var results = new BlockStatus[blocks.Count];
        Array.Fill(results, BlockStatus.Timeout); // whatever the deadline cuts off stays Timeout
        return results;
    }

    // Gathers a pool slot straight into the store's record. One per worker, reused block after block.
    private sealed class SlotGather(RegisteredPool pool) : IPayloadSource
    {
        public int Slot { get; set; }

        public int Length => (int)pool.Spec.BlockBytes;

        public unsafe void CopyTo(Span<byte> destination) => HostCopier.Gather(pool.Spec, pool.Memory.Pointer, Slot, destination);
    }

    // One block being onloaded, as the store's lend sees it.
    private struct OnloadSlot(RegisteredPool pool, int slot)
    {
        public readonly RegisteredPool Pool = pool;
        public readonly int Slot = slot;
        public BlockStatus Result;
    }
}
