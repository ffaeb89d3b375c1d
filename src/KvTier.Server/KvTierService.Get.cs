using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using KvTier.Store;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    // A block that keeps being replaced by a larger one while we read it: give up after this many tries.
    private const int ReadAttempts = 3;

    /// <summary>
    /// Streams a verified block: a header message, then chunks that wrap the pooled buffer without copying.
    /// The buffer goes back to the pool only after the last write completed (gRPC has serialized it by then).
    /// </summary>
    public override async Task Get(Rpc.GetRequest request, IServerStreamWriter<Rpc.GetResponse> responseStream, ServerCallContext context)
    {
        var key = ParseKey(context, request.Key, "key");
        var chunk = request.MaxChunkBytes == 0 ? MaxChunkBytes : (int)Math.Clamp(request.MaxChunkBytes, MinChunkBytes, MaxChunkBytes);
        if (_cluster.Node is { } node && _store.Peek(Tenant, key, out _) == BlockStatus.NotFound)
        {
            // Not here: bring it from an owner into the local store (verified), then serve it like a local block.
            await node.FetchAsync(Tenant, key).ConfigureAwait(false);
        }

        var (buffer, info) = Read(context, key);
        try
        {
            var ct = context.CancellationToken;
            var length = (int)info.PayloadLength;
            var header = new Rpc.BlockHeader
            {
                Key = request.Key,
                Length = (ulong)length,
                Checksum = info.PayloadChecksum,
                GeometryFingerprint = info.GeometryFingerprint,
                CreatedUnixMs = info.CreatedUnixMs,
            };
            await responseStream.WriteAsync(new Rpc.GetResponse { Header = header }, ct).ConfigureAwait(false);
            for (var offset = 0; offset < length; offset += chunk)
            {
                var slice = buffer.AsMemory(offset, Math.Min(chunk, length - offset));
                await responseStream.WriteAsync(new Rpc.GetResponse { Chunk = UnsafeByteOperations.UnsafeWrap(slice) }, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private (byte[] Buffer, BlockInfo Info) Read(ServerCallContext context, in BlockKey key)
    {
        for (var attempt = 0; attempt < ReadAttempts; attempt++)
        {
            var status = _store.Peek(Tenant, key, out var peeked);
            if (status != BlockStatus.Ok)
            {
                throw Failed(context, status, key);
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)peeked.PayloadLength);
            status = _store.Get(Tenant, key, buffer, out var info);
            if (status == BlockStatus.Ok)
            {
                return (buffer, info);
            }

            ArrayPool<byte>.Shared.Return(buffer);
            if (status != BlockStatus.BufferTooSmall)
            {
                throw Failed(context, status, key);
            }
        }

        throw Reject(context, StatusCode.Aborted, $"block {key} kept changing size while being read: retry");
    }
}
