using System.Threading.Channels;
using KvTier.Core;
using KvTier.Store;
using KvTier.Transfer;

namespace KvTier.Server.Engine;

/// <summary>
/// Moves blocks between an engine's pool and the store through pinned staging, double-buffered: while one block is
/// written to the store (or scattered into the pool), the next is gathered (or read from the store) on another core.
/// Staging exhaustion makes the producer wait (backpressure); nothing is allocated per block.
/// </summary>
public sealed class TransferPipeline(IBlockStore store, StagingArena staging)
{
    // Blocks staged ahead of the consumer: two in flight is double buffering.
    private const int Depth = 2;

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
                results[i] = store.Put(tenant, blocks[i].Key, lease.Span, pool.Fingerprint, ttl);
            }
        }

        await producer.ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// Reads each cached block (verified) and scatters it into its slot. A block that is not Ok leaves its slot untouched.
    /// </summary>
    public async Task<BlockStatus[]> OnloadAsync(string tenant, RegisteredPool pool, IReadOnlyList<(BlockKey Key, int Slot)> blocks,
        CancellationToken cancellationToken)
    {
        var results = Prepare(pool, blocks);
        var channel = Channel.CreateBounded<(int Index, StagingLease Lease)>(Depth);
        var producer = Task.Run(() => ProduceAsync(channel.Writer, blocks.Count, pool.Spec.BlockBytes, (i, lease) =>
        {
            var status = store.Get(tenant, blocks[i].Key, lease.Span, out var info);
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
                var lease = await staging.RentAsync(blockBytes, cancellationToken).ConfigureAwait(false);
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
