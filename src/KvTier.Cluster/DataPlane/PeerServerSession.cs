using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Cluster.DataPlane;

/// <summary>One accepted connection: handshake, then requests one after another until the peer leaves or misbehaves.</summary>
internal sealed class PeerServerSession
{
    // Blocks below this size are copied into the pipe and flushed together; larger ones are written in place.
    private const int SmallBlockBytes = 64 << 10;
    private const int FlushThreshold = 256 << 10;
    private const int DefaultBlockBytes = 2 << 20;
    private const int PutPrefixMax = 2 + PeerProtocol.MaxTenantBytes + BlockKey.Size + 8 + BlockHeader.Size;

    private readonly PeerDataServer _server;
    private readonly PeerConnection _connection;
    private readonly byte[] _putPrefix = new byte[PutPrefixMax];

    public PeerServerSession(PeerDataServer server, Socket socket)
    {
        _server = server;
        _connection = new PeerConnection(socket, server.Counters, server.Options.PipeBufferBytes);
    }

    public string Remote => _connection.Remote;

    private TimeSpan Io => _server.Options.IoTimeout;

    public void Abort() => _connection.Abort();

    public async Task RefuseAsync(PeerRefusal code, string text, TimeSpan linger)
    {
        await _connection.RefuseAsync(code, text, linger).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    public async Task RunAsync(TimeSpan linger)
    {
        try
        {
            var peer = await PeerHandshake.AcceptAsync(_connection, _server.Identity, _server.Options.HandshakeTimeout, OnRefused)
                .ConfigureAwait(false);
            if (peer is null)
            {
                return;
            }

            while (await ReadRequestHeaderAsync().ConfigureAwait(false) is { } request)
            {
                switch (request.Type)
                {
                    case FrameType.GetRequest:
                        await ServeGetAsync(request).ConfigureAwait(false);
                        break;
                    case FrameType.ExistsRequest:
                        await ServeExistsAsync(request).ConfigureAwait(false);
                        break;
                    case FrameType.PutRequest:
                        await ServePutAsync(request).ConfigureAwait(false);
                        break;
                    default:
                        throw new PeerProtocolException($"a {request.Type} frame is not a request");
                }
            }
        }
        catch (PeerProtocolException e)
        {
            _server.Counters.ProtocolError();
            PeerLog.ProtocolViolation(_server.Logger, Remote, e.Message);
            await _connection.RefuseAsync(PeerRefusal.ProtocolViolation, e.Message, linger).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_connection.TimedOut)
        {
            _server.Counters.Timeout();
            PeerLog.ConnectionEnded(_server.Logger, Remote, "the peer stalled past its deadline");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or PeerDataException
            or ObjectDisposedException or InvalidOperationException)
        {
            PeerLog.ConnectionEnded(_server.Logger, Remote, e.Message);
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Null when the peer left or stayed idle past the idle timeout (closing an idle connection is not a stall).
    private async ValueTask<FrameHeader?> ReadRequestHeaderAsync()
    {
        try
        {
            return await _connection.ReadHeaderAsync(_server.Options.IdleTimeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_connection.TimedOut)
        {
            PeerLog.ConnectionEnded(_server.Logger, Remote, $"idle for {_server.Options.IdleTimeout}");
            return null;
        }
    }

    private void OnRefused(PeerRefusal code, string text)
    {
        _server.Counters.HandshakeRefused();
        PeerLog.Refused(_server.Logger, Remote, text);
    }

    private async Task ServeGetAsync(FrameHeader request)
    {
        var body = await _connection.ReadBodyAsync(request, PeerProtocol.MaxControlBody, Io).ConfigureAwait(false);
        var tenant = PeerProtocol.ReadKeyRequest(body.Span, out var keysOffset, out var count);
        // The keys stay in the connection's body buffer: nothing is read from the peer until this request is answered.
        var keys = body[keysOffset..];
        var buffers = _server.Buffers;
        var current = buffers.Rent(PeerProtocol.BlockPrefix + DefaultBlockBytes);
        byte[]? spare = null;
        var sending = default(ValueTask<FlushResult>);
        var isSending = false;
        var buffered = 0;
        try
        {
            for (var i = 0; i < count; i++)
            {
                // Read block i while block i-1 may still be on its way out of the other buffer.
                var status = ReadBlock(tenant, new BlockKey(keys.Span.Slice(i * BlockKey.Size, BlockKey.Size)), ref current, out var info);
                if (isSending)
                {
                    isSending = false;
                    await sending.ConfigureAwait(false);
                }

                if (status != BlockStatus.Ok)
                {
                    var statusBody = _connection.StartFrame(FrameType.BlockStatus, 1, request.RequestId, i);
                    statusBody[0] = (byte)status;
                    _connection.CommitFrame(1);
                    buffered += FrameHeader.Size + 1;
                }
                else
                {
                    var frameLength = PeerProtocol.BlockPrefix + (int)info.PayloadLength;
                    WritePrefix(current, request.RequestId, i, info);
                    _server.Counters.BlockSent();
                    if (info.PayloadLength < SmallBlockBytes)
                    {
                        _connection.Writer.Write(current.AsSpan(0, frameLength));
                        _server.Counters.BytesOut(frameLength);
                        buffered += frameLength;
                    }
                    else
                    {
                        // The buffer already holds frame header, block header and payload: one send, no copy.
                        sending = _connection.WriteDirectAsync(current.AsMemory(0, frameLength), Io);
                        isSending = true;
                        buffered = 0;
                        (current, spare) = (spare ?? buffers.Rent(PeerProtocol.BlockPrefix + DefaultBlockBytes), current);
                        continue;
                    }
                }

                if (buffered >= FlushThreshold)
                {
                    await _connection.FlushAsync(Io).ConfigureAwait(false);
                    buffered = 0;
                }
            }

            if (isSending)
            {
                isSending = false;
                await sending.ConfigureAwait(false);
            }

            await _connection.FlushAsync(Io).ConfigureAwait(false);
        }
        finally
        {
            if (isSending)
            {
                // Never pool a buffer the socket may still be reading from.
                await IgnoreFailureAsync(sending).ConfigureAwait(false);
            }

            buffers.Return(current);
            buffers.Return(spare);
        }
    }

    private BlockStatus ReadBlock(string tenant, in BlockKey key, ref byte[] buffer, out BlockInfo info)
    {
        var store = _server.Store;
        var status = store.Get(tenant, key, buffer.AsSpan(PeerProtocol.BlockPrefix), out info);
        for (var attempt = 0; status == BlockStatus.BufferTooSmall && attempt < 2; attempt++)
        {
            if (store.Peek(tenant, key, out var peeked) != BlockStatus.Ok)
            {
                return BlockStatus.NotFound;
            }

            if (peeked.PayloadLength > _server.MaxBlockBytes)
            {
                return BlockStatus.TooLarge;
            }

            _server.Buffers.Return(buffer);
            buffer = _server.Buffers.Rent(PeerProtocol.BlockPrefix + peeked.PayloadLength);
            status = store.Get(tenant, key, buffer.AsSpan(PeerProtocol.BlockPrefix), out info);
        }

        return status switch
        {
            BlockStatus.Ok when info.PayloadLength > _server.MaxBlockBytes => BlockStatus.TooLarge,
            BlockStatus.Ok or BlockStatus.Corrupt or BlockStatus.TooLarge => status,
            _ => BlockStatus.NotFound,
        };
    }

    private static void WritePrefix(byte[] buffer, uint requestId, int index, in BlockInfo info)
    {
        new FrameHeader(FrameType.Block, BlockHeader.Size + (int)info.PayloadLength, requestId, index).WriteTo(buffer);
        new BlockHeader(info.GeometryFingerprint, info.PayloadLength, info.PayloadChecksum, info.CreatedUnixMs, info.ExpiresUnixMs)
            .WriteTo(buffer.AsSpan(FrameHeader.Size));
    }

    private async Task ServeExistsAsync(FrameHeader request)
    {
        var body = await _connection.ReadBodyAsync(request, PeerProtocol.MaxControlBody, Io).ConfigureAwait(false);
        var tenant = PeerProtocol.ReadKeyRequest(body.Span, out var keysOffset, out var count);
        var keys = body.Span[keysOffset..];
        var response = _connection.StartFrame(FrameType.ExistsResponse, 4 + count, request.RequestId);
        BinaryPrimitives.WriteInt32LittleEndian(response, count);
        for (var i = 0; i < count; i++)
        {
            var key = new BlockKey(keys.Slice(i * BlockKey.Size, BlockKey.Size));
            response[4 + i] = _server.Store.Peek(tenant, key, out _) == BlockStatus.Ok ? (byte)1 : (byte)0;
        }

        _connection.CommitFrame(4 + count);
        await _connection.FlushAsync(Io).ConfigureAwait(false);
    }

    private async Task ServePutAsync(FrameHeader request)
    {
        var prefix = _putPrefix.AsMemory();
        if (request.BodyLength < 2)
        {
            throw new PeerProtocolException("a PUT request is truncated");
        }

        await _connection.ReadExactAsync(prefix[..2], Io).ConfigureAwait(false);
        var prefixLength = 2 + BinaryPrimitives.ReadUInt16LittleEndian(_putPrefix) + BlockKey.Size + 8 + BlockHeader.Size;
        if (prefixLength > PutPrefixMax || request.BodyLength < prefixLength)
        {
            throw new PeerProtocolException($"a PUT request's prefix of {prefixLength} bytes does not fit its body of {request.BodyLength}");
        }

        await _connection.ReadExactAsync(prefix[2..prefixLength], Io).ConfigureAwait(false);
        var put = ParsePut(_putPrefix.AsSpan(0, prefixLength), request.BodyLength - prefixLength);
        var status = put.Status;
        var length = request.BodyLength - prefixLength;
        if (status != BlockStatus.Ok)
        {
            await _connection.SkipAsync(length, Io).ConfigureAwait(false);
        }
        else if (_connection.TryPeekContiguous(length, out var inPlace))
        {
            status = StorePut(put, inPlace.Span);
            _connection.ConsumePeeked(length);
        }
        else
        {
            // The payload spans pipe segments: one copy into a pooled buffer (the part not yet buffered lands there directly).
            var buffer = _server.Buffers.Rent(length);
            try
            {
                await _connection.ReadExactAsync(buffer.AsMemory(0, length), Io).ConfigureAwait(false);
                status = StorePut(put, buffer.AsSpan(0, length));
            }
            finally
            {
                _server.Buffers.Return(buffer);
            }
        }

        if (status == BlockStatus.Corrupt)
        {
            _server.Counters.CorruptReceived();
            PeerLog.CorruptPut(_server.Logger, put.Key.ToString(), put.Tenant, Remote);
        }
        else if (status == BlockStatus.Ok)
        {
            _server.Counters.BlockReceived();
        }

        _connection.StartFrame(FrameType.PutResponse, 1, request.RequestId)[0] = (byte)status;
        _connection.CommitFrame(1);
        await _connection.FlushAsync(Io).ConfigureAwait(false);
    }

    private PutRequest ParsePut(ReadOnlySpan<byte> prefix, long payloadLength)
    {
        var offset = 0;
        var tenant = PeerProtocol.ReadTenant(prefix, ref offset);
        var key = new BlockKey(prefix.Slice(offset, BlockKey.Size));
        offset += BlockKey.Size;
        var ttlMs = BinaryPrimitives.ReadInt64LittleEndian(prefix[offset..]);
        offset += 8;
        if (ttlMs < 0)
        {
            throw new PeerProtocolException($"a PUT request's TTL of {ttlMs} ms is negative");
        }

        TimeSpan? ttl = ttlMs == 0 ? null : TimeSpan.FromMilliseconds(ttlMs);
        var status = BlockHeader.TryRead(prefix[offset..], out var header);
        if (status != BlockStatus.Ok || header.PayloadLength != payloadLength)
        {
            return new PutRequest(tenant, key, ttl, header, BlockStatus.Corrupt);
        }

        return new PutRequest(tenant, key, ttl, header, payloadLength > _server.MaxBlockBytes ? BlockStatus.TooLarge : BlockStatus.Ok);
    }

    private BlockStatus StorePut(in PutRequest put, ReadOnlySpan<byte> payload)
    {
        // The store verifies the sender's checksum in the same pass that copies into its log.
        return _server.Store.Put(put.Tenant, put.Key, payload, put.Header.GeometryFingerprint, put.Ttl, put.Header.PayloadChecksum);
    }

    private static async ValueTask IgnoreFailureAsync(ValueTask<FlushResult> sending)
    {
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The request already failed; this only waits for the socket to let go of the buffer.
        }
    }

    private readonly record struct PutRequest(string Tenant, BlockKey Key, TimeSpan? Ttl, BlockHeader Header, BlockStatus Status);
}
