using System.Buffers;
using Grpc.Core;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    /// <summary>
    /// Client-streaming put: the header is checked (key, size against --max-block) before any payload is taken, the
    /// chunks are assembled in one pooled buffer, the client's checksum is verified, then the block is stored.
    /// </summary>
    public override async Task<Rpc.PutResponse> Put(IAsyncStreamReader<Rpc.PutRequest> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var ns = Writes(context);
        if (!await requestStream.MoveNext(ct).ConfigureAwait(false) || requestStream.Current.Header is not { } header)
        {
            throw Reject(context, StatusCode.InvalidArgument, "header: the first message must carry the block header");
        }

        var key = ParseKey(context, header.Key, "header.key");
        if (header.Length > (ulong)_store.MaxBlockBytes)
        {
            throw Reject(context, StatusCode.ResourceExhausted,
                $"header.length: a block of {header.Length} bytes exceeds this node's limit of {_store.MaxBlockBytes} bytes (--max-block): send smaller blocks or raise --max-block");
        }

        var length = (int)header.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var received = 0;
            var message = requestStream.Current;
            while (true)
            {
                if (message.Chunk.Length > length - received)
                {
                    throw Reject(context, StatusCode.InvalidArgument,
                        $"chunk: more than header.length ({length}) payload bytes arrived: send exactly header.length bytes");
                }

                message.Chunk.Span.CopyTo(buffer.AsSpan(received));
                received += message.Chunk.Length;
                if (!await requestStream.MoveNext(ct).ConfigureAwait(false))
                {
                    break;
                }

                message = requestStream.Current;
            }

            if (received != length)
            {
                throw Reject(context, StatusCode.InvalidArgument,
                    $"chunk: {received} payload bytes arrived but header.length is {length}: send exactly header.length bytes");
            }

            var response = Store(context, header, ns, key, buffer.AsSpan(0, length));
            if (_cluster.Node is { } node)
            {
                TimeSpan? ttl = header.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(header.TtlSeconds);
                if (!await node.ReplicateAsync(ns, key, buffer.AsMemory(0, length), header.GeometryFingerprint, ttl, ct).ConfigureAwait(false))
                {
                    throw Reject(context, StatusCode.Unavailable,
                        $"write-ack {node.Options.WriteAck.ToString().ToLowerInvariant()}: the owners of block {key} did not all store it "
                        + "(it is stored on this node); retry, or check that the other members are up (kvtier cluster status)");
                }
            }

            return response;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Rpc.PutResponse Store(ServerCallContext context, Rpc.BlockHeader header, string ns, in BlockKey key, ReadOnlySpan<byte> payload)
    {
        // The checksum is verified in the same pass that copies the payload into the log.
        TimeSpan? ttl = header.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(header.TtlSeconds);
        var status = _store.Put(ns, key, payload, header.GeometryFingerprint, ttl, header.HasChecksum ? header.Checksum : null);
        if (status == BlockStatus.Corrupt)
        {
            throw Reject(context, StatusCode.DataLoss,
                $"header.checksum: the payload does not hash to {header.Checksum:x16}; block {key} was not stored: resend it");
        }

        if (status != BlockStatus.Ok)
        {
            throw Failed(context, status, key);
        }

        _metrics.Put(payload.Length);
        return new Rpc.PutResponse { StoredBytes = (ulong)payload.Length };
    }
}
