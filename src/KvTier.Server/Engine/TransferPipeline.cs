using System.Diagnostics;
using System.Threading.Channels;
using KvTier.Core;
using KvTier.Server.Operations;
using KvTier.Store;
using KvTier.Transfer;

namespace KvTier.Server.Engine;

/// <summary>
/// Moves blocks between an engine's pool and the store through pinned staging, double-buffered: while one block is
/// written to the store (or scattered into the pool), the next is gathered (or read from the store) on another core.
/// Staging exhaustion makes the producer wait (backpressure); nothing is allocated per block.
/// </summary>
public sealed class TransferPipeline
{
    // Blocks staged ahead of the consumer: two in flight is double buffering.
    private const int Depth = 2;

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
    public async Task<BlockStatus[]> OffloadAsync(string tenant, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var results = Prepare(pool, blocks);
        var channel = Channel.CreateBounded<(int Index, StagingLease Lease)>(Depth);
        var producer = Task.Run(() => ProduceAsync(channel.Writer, blocks.Count, pool.Spec.BlockBytes, (i, lease) =>
        {
            unsafe
            {
                HostCopier.Gather(pool.Spec, pool.Memory.Pointer, blocks[i].Slot, lease.Span);
            }

            return true;
        }, cancellationToken), CancellationToken.None);

        await foreach (var (i, lease) in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using (lease)
            {
                results[i] = _store.Put(tenant, blocks[i].Key, lease.Span, pool.Fingerprint, ttl);
                if (results[i] == BlockStatus.Ok)
                {
                    _metrics.Offload(pool.Spec.BlockBytes);
                }
            }
        }

        await producer.ConfigureAwait(false);
        return results;
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
    public async Task<BlockStatus[]> OnloadAsync(IReadOnlyList<string> namespaces, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(namespaces.Count);
        var results = Prepare(pool, blocks);
        var channel = Channel.CreateBounded<(int Index, StagingLease Lease)>(Depth);
        var producer = Task.Run(() => ProduceAsync(channel.Writer, blocks.Count, pool.Spec.BlockBytes, (i, lease) =>
        {
            var started = Stopwatch.GetTimestamp();
            var status = BlockStatus.NotFound;
            var info = default(BlockInfo);
            for (var n = 0; n < namespaces.Count && status == BlockStatus.NotFound; n++)
            {
                status = _store.Get(namespaces[n], blocks[i].Key, lease.Span, out info);
            }

            if (status == BlockStatus.Ok)
            {
                _metrics.LocalFetch(started);
            }

            if (status == BlockStatus.Ok && info.PayloadLength != pool.Spec.BlockBytes)
            {
                status = BlockStatus.GeometryMismatch;
            }
            else if (status == BlockStatus.Ok && info.GeometryFingerprint != pool.Fingerprint)
            {
                status = BlockStatus.GeometryMismatch;
            }

            results[i] = status;
            return status == BlockStatus.Ok;
        }, cancellationToken), CancellationToken.None);

        await foreach (var (i, lease) in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using (lease)
            {
                // The engine may have died while the block was read: never write into a pool that is gone.
                if (!pool.IsAlive)
                {
                    results[i] = BlockStatus.NotFound;
                    continue;
                }

                unsafe
                {
                    HostCopier.Scatter(pool.Spec, lease.Span, pool.Memory.Pointer, blocks[i].Slot);
                }

                results[i] = BlockStatus.Ok;
                _metrics.Onload(pool.Spec.BlockBytes);
            }
        }

        await producer.ConfigureAwait(false);
        return results;
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

    // Stages blocks in order; a block the stage step rejects (e.g. a miss on onload) frees its lease at once.
    private async Task ProduceAsync(ChannelWriter<(int, StagingLease)> writer, int count, long blockBytes,
        Func<int, StagingLease, bool> stage, CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var lease = await _staging.RentAsync(blockBytes, cancellationToken).ConfigureAwait(false);
                bool staged;
                try
                {
                    staged = stage(i, lease);
                }
                catch
                {
                    lease.Dispose();
                    throw;
                }

                if (!staged)
                {
                    lease.Dispose();
                    continue;
                }

                if (!writer.TryWrite((i, lease)))
                {
                    try
                    {
                        await writer.WriteAsync((i, lease), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch
                    {
                        lease.Dispose();
                        throw;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Deadline: the blocks not yet staged keep their Timeout result.
        }
        finally
        {
            writer.TryComplete();
        }
    }
}
