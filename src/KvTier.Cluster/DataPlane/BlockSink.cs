using System.Runtime.ExceptionServices;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Cluster.DataPlane;

/// <summary>Where the blocks of a GET batch go; a sink verifies each payload against its header before keeping it.</summary>
internal abstract class BlockSink
{
    /// <summary>Ok when the block was verified and kept; Corrupt (nothing kept), TooLarge or NotFound (expired) otherwise.</summary>
    public abstract ValueTask<BlockStatus> AcceptAsync(int index, BlockHeader header, ReadOnlyMemory<byte> payload);
}

/// <summary>Hands verified blocks to the caller's handler.</summary>
internal sealed class HandlerSink(PeerBlockHandler handler) : BlockSink
{
    public override async ValueTask<BlockStatus> AcceptAsync(int index, BlockHeader header, ReadOnlyMemory<byte> payload)
    {
        if (BlockChecksum.Compute(payload.Span) != header.PayloadChecksum)
        {
            return BlockStatus.Corrupt;
        }

        try
        {
            await handler(index, header, payload).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new HandlerException(e);
        }

        return BlockStatus.Ok;
    }
}

/// <summary>Writes verified blocks into a local store, keeping each block's remaining TTL and geometry.</summary>
internal sealed class StoreSink(IBlockStore store, string tenant, IReadOnlyList<BlockKey> keys, TimeProvider time) : BlockSink
{
    public override ValueTask<BlockStatus> AcceptAsync(int index, BlockHeader header, ReadOnlyMemory<byte> payload)
    {
        TimeSpan? ttl = null;
        if (header.ExpiresUnixMs != 0)
        {
            var left = header.ExpiresUnixMs - time.GetUtcNow().ToUnixTimeMilliseconds();
            if (left <= 0)
            {
                return ValueTask.FromResult(BlockStatus.NotFound);
            }

            ttl = TimeSpan.FromMilliseconds(left);
        }

        // The store verifies the checksum in the same pass that copies into its log.
        return ValueTask.FromResult(store.Put(tenant, keys[index], payload.Span, header.GeometryFingerprint, ttl, header.PayloadChecksum));
    }
}

/// <summary>Carries an exception thrown by the caller's handler past the client's peer-failure handling.</summary>
internal sealed class HandlerException(Exception inner) : Exception(inner.Message, inner)
{
    public void Rethrow() => ExceptionDispatchInfo.Capture(InnerException!).Throw();
}
