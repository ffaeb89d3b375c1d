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
    // Bytes copied out for one asynchronous send when the socket is full (then sending continues in place).
    private const int ChunkBytes = 64 << 10;
    private const int PutPrefixMax = 2 + PeerProtocol.MaxTenantBytes + BlockKey.Size + 8 + BlockHeader.Size;

    private static readonly BlockLender<ServedBlock> s_serve = Serve;

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
        var chunk = _server.Buffers.Rent(ChunkBytes);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var key = new BlockKey(keys.Span.Slice(i * BlockKey.Size, BlockKey.Size));
                var block = new ServedBlock(this, request.RequestId, i, chunk);
                var status = _server.Store.Lend(tenant, key, ref block, s_serve, out _);
                if (block.Deferred)
                {
                    // A large block behind small frames still in the pipe: those go first, then the block in place.
                    await _connection.FlushAsync(Io).ConfigureAwait(false);
                    block = new ServedBlock(this, request.RequestId, i, chunk);
                    status = _server.Store.Lend(tenant, key, ref block, s_serve, out _);
                }

                while (status == BlockStatus.Ok && block.Pending > 0)
                {
                    // The socket was full: the next bytes were copied out, and sending them is also the wait for room.
                    // Then the rest goes in place again, from the same record.
                    _server.Counters.SendStalled();
                    await _connection.WriteDirectAsync(chunk.AsMemory(0, block.Pending), Io).ConfigureAwait(false);
                    block.Sent += block.Pending;
                    block.Pending = 0;
                    status = _server.Store.Lend(tenant, key, ref block, s_serve, out _);
                    if (status != BlockStatus.Ok || block.Replaced)
                    {
                        // Part of the frame is on the wire and its bytes are gone: the peer sees the connection end.
                        throw new IOException($"block {key} was replaced or evicted while it was being sent");
                    }
                }

                status = block.TooLarge ? BlockStatus.TooLarge : status;
                if (status is not BlockStatus.Ok)
                {
                    var statusBody = _connection.StartFrame(FrameType.BlockStatus, 1, request.RequestId, i);
                    statusBody[0] = (byte)(status is BlockStatus.Corrupt or BlockStatus.TooLarge ? status : BlockStatus.NotFound);
                    _connection.CommitFrame(1);
                }
                else
                {
                    _server.Counters.BlockSent();
                }

                if (_connection.Writer.UnflushedBytes >= FlushThreshold)
                {
                    await _connection.FlushAsync(Io).ConfigureAwait(false);
                }
            }

            await _connection.FlushAsync(Io).ConfigureAwait(false);
        }
        finally
        {
            // Every chunk write was awaited, so the socket no longer reads from it.
            _server.Buffers.Return(chunk);
        }
    }

    // Runs inside the store's lend, while the block's log memory is held in place. Small blocks are copied into the
    // pipe. Large ones go to the socket from where they lie for as long as it takes bytes without waiting; when it is
    // full, the next chunk is copied out for an asynchronous send, and a later lend continues in place.
    private static void Serve(in BlockInfo info, ReadOnlySpan<byte> payload, ref ServedBlock block)
    {
        var session = block.Session;
        var connection = session._connection;
        if (block.Sent == 0)
        {
            if (info.PayloadLength > session._server.MaxBlockBytes)
            {
                block.TooLarge = true;
                return;
            }

            block.Header = info.Header;
            if (payload.Length < SmallBlockBytes)
            {
                var body = connection.StartFrame(FrameType.Block, BlockHeader.Size + payload.Length, block.RequestId, block.Index);
                block.Header.WriteTo(body);
                payload.CopyTo(body[BlockHeader.Size..]);
                connection.CommitFrame(BlockHeader.Size + payload.Length);
                return;
            }

            if (connection.Writer.UnflushedBytes > 0)
            {
                block.Deferred = true;
                return;
            }
        }
        else if (info.PayloadChecksum != block.Header.PayloadChecksum || info.PayloadLength != block.Header.PayloadLength
            || info.CreatedUnixMs != block.Header.CreatedUnixMs)
        {
            block.Replaced = true;
            return;
        }

        // The prefix is rebuilt from the header taken at the first lend (a touch may rewrite the stored expiry since).
        Span<byte> prefix = stackalloc byte[PeerProtocol.BlockPrefix];
        new FrameHeader(FrameType.Block, BlockHeader.Size + payload.Length, block.RequestId, block.Index).WriteTo(prefix);
        block.Header.WriteTo(prefix[FrameHeader.Size..]);
        block.Sent += connection.SendInPlace(prefix, payload, block.Sent);
        var left = prefix.Length + payload.Length - block.Sent;
        if (left > 0)
        {
            block.Pending = Math.Min(left, block.Chunk.Length);
            PeerConnection.CopyFrame(prefix, payload, block.Sent, block.Chunk.AsSpan(0, block.Pending));
        }
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

    // A block being served, as the store's lend sees it.
    private struct ServedBlock(PeerServerSession session, uint requestId, int index, byte[] chunk)
    {
        public readonly PeerServerSession Session = session;
        public readonly uint RequestId = requestId;
        public readonly int Index = index;
        public readonly byte[] Chunk = chunk;
        public BlockHeader Header;
        public int Sent;
        public int Pending;
        public bool TooLarge;
        public bool Deferred;
        public bool Replaced;
    }

    private readonly record struct PutRequest(string Tenant, BlockKey Key, TimeSpan? Ttl, BlockHeader Header, BlockStatus Status);
}
