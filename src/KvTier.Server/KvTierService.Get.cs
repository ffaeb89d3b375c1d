using System.Buffers;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using KvTier.Server.Auth;
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
        var ns = await LocateAsync(CallScope.Of(context).Reads, key).ConfigureAwait(false) ?? throw Failed(context, BlockStatus.NotFound, key);
        var readStarted = Stopwatch.GetTimestamp();
        var (buffer, info) = Read(context, ns, key);
        _metrics.LocalFetch(readStarted);
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

            _metrics.Get(length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The namespace that holds <paramref name="key"/>: the first of <paramref name="reads"/> that has it here, else the
    /// first an owner has (fetched into the local store, verified); null when none has it. With one namespace on a
    /// single node there is nothing to choose: the read itself answers.
    /// </summary>
    private async Task<string?> LocateAsync(IReadOnlyList<string> reads, BlockKey key)
    {
        if (reads.Count == 1 && _cluster.Node is null)
        {
            return reads[0];
        }

        foreach (var ns in reads)
        {
            if (_store.Peek(ns, key, out _) == BlockStatus.Ok)
            {
                return ns;
            }
        }

        if (_cluster.Node is { } node)
        {
            foreach (var ns in reads)
            {
                // Not here: bring it from an owner into the local store (verified), then serve it like a local block.
                var fetchStarted = Stopwatch.GetTimestamp();
                if (await node.FetchAsync(ns, key).ConfigureAwait(false) == BlockStatus.Ok)
                {
                    _metrics.PeerFetch(fetchStarted);
                    return ns;
                }
            }

            return reads[0]; // as before tenants: the read below answers (and counts the miss)
        }

        return null;
    }

    private (byte[] Buffer, BlockInfo Info) Read(ServerCallContext context, string ns, in BlockKey key)
    {
        for (var attempt = 0; attempt < ReadAttempts; attempt++)
        {
            var status = _store.Peek(ns, key, out var peeked);
            if (status != BlockStatus.Ok)
            {
                throw Failed(context, status, key);
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)peeked.PayloadLength);
            status = _store.Get(ns, key, buffer, out var info);
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
