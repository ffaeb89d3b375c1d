using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using KvTier.Core;

namespace KvTier.Cluster.DataPlane;

/// <summary>
/// One framed peer connection: socket → NetworkStream → PipeReader/PipeWriter, with a resettable deadline. Control
/// frames and small blocks go through the pipes; bulk payloads skip them in both directions (a direct write of a
/// buffer that already holds the frame prefix; a direct read into the destination once the pipe is drained), which
/// saves one copy per block. Not thread-safe: one request at a time.
/// </summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    // Payload bytes still to read at or above which a read bypasses the pipe.
    private const int DirectReadThreshold = 32 << 10;
    private const int MaxErrorText = 4096;

    private readonly NetworkStream _stream;
    private readonly PeerDataCounters _counters;
    private readonly Lock _deadlineLock = new();
    private readonly byte[] _blockHeader = new byte[BlockHeader.Size];
    private CancellationTokenSource _deadline = new();
    private byte[] _scratch = new byte[4096];
    private uint _requestId;
    private SequencePosition _peekEnd;
    private volatile bool _aborted;
    private int _disposed;

    public PeerConnection(Socket socket, PeerDataCounters counters, int pipeBufferBytes)
    {
        socket.NoDelay = true;
        Remote = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
        _counters = counters;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: pipeBufferBytes, minimumReadSize: 4096, leaveOpen: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 << 10, leaveOpen: true));
    }

    /// <summary>The peer's address, for messages.</summary>
    public string Remote { get; }

    /// <summary>Frames from the peer.</summary>
    public PipeReader Reader { get; }

    /// <summary>Frames to the peer.</summary>
    public PipeWriter Writer { get; }

    /// <summary>True when the last failure was the deadline passing (not an abort).</summary>
    public bool TimedOut => _deadline.IsCancellationRequested && !_aborted;

    /// <summary>When the connection went back to its pool (<see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long IdleSince { get; set; }

    /// <summary>Frame headers read so far: tells whether a failed request had been answered at all.</summary>
    public long FramesRead { get; private set; }

    /// <summary>A fresh id for the next request on this connection.</summary>
    public uint NextRequestId() => ++_requestId;

    /// <summary>Starts (or restarts) the deadline for the next step; a stalled step is cancelled when it passes.</summary>
    public CancellationToken Arm(TimeSpan timeout)
    {
        if (_aborted)
        {
            return new CancellationToken(canceled: true);
        }

        if (_deadline.IsCancellationRequested)
        {
            // The previous step finished just as its deadline passed: start afresh instead of failing this step.
            lock (_deadlineLock)
            {
                if (_aborted)
                {
                    return new CancellationToken(canceled: true);
                }

                _deadline.Dispose();
                _deadline = new CancellationTokenSource();
            }
        }

        _deadline.CancelAfter(timeout);
        return _deadline.Token;
    }

    /// <summary>Stops the deadline while the connection waits in a pool.</summary>
    public void Disarm() => _deadline.CancelAfter(Timeout.InfiniteTimeSpan);

    /// <summary>Cancels whatever the connection is doing (caller cancellation, shutdown); it is unusable afterwards.</summary>
    public void Abort()
    {
        lock (_deadlineLock)
        {
            _aborted = true;
            try
            {
                _deadline.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already closed: nothing left to cancel.
            }
        }
    }

    /// <summary>Reads the next frame header; null when the peer closed cleanly between frames.</summary>
    public async ValueTask<FrameHeader?> ReadHeaderAsync(TimeSpan timeout)
    {
        var token = Arm(timeout);
        while (true)
        {
            var result = await Reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= FrameHeader.Size)
            {
                var header = ParseHeader(buffer);
                Reader.AdvanceTo(buffer.GetPosition(FrameHeader.Size));
                _counters.BytesIn(FrameHeader.Size);
                FramesRead++;
                return header;
            }

            if (result.IsCompleted)
            {
                Reader.AdvanceTo(buffer.End);
                return buffer.Length == 0 ? null : throw new PeerProtocolException($"{Remote} closed the connection inside a frame header");
            }

            Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Fills <paramref name="destination"/> with the next bytes of the stream.</summary>
    public async ValueTask ReadExactAsync(Memory<byte> destination, TimeSpan timeout)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var token = Arm(timeout);
            var remaining = destination.Length - filled;
            if (!Reader.TryRead(out var result))
            {
                if (remaining >= DirectReadThreshold)
                {
                    // Nothing is buffered: the rest of a bulk payload goes from the socket straight into place.
                    var n = await _stream.ReadAsync(destination[filled..], token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new PeerDataException($"{Remote} closed the connection inside a frame");
                    }

                    filled += n;
                    _counters.BytesIn(n);
                    continue;
                }

                result = await Reader.ReadAsync(token).ConfigureAwait(false);
            }

            var buffer = result.Buffer;
            var take = (int)Math.Min(buffer.Length, remaining);
            buffer.Slice(0, take).CopyTo(destination.Span[filled..]);
            Reader.AdvanceTo(buffer.GetPosition(take));
            filled += take;
            _counters.BytesIn(take);
            if (take == 0 && result.IsCompleted)
            {
                throw new PeerDataException($"{Remote} closed the connection inside a frame");
            }
        }
    }

    /// <summary>Reads a control frame's body into a per-connection buffer, valid until the next call.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadBodyAsync(FrameHeader header, int maxBytes, TimeSpan timeout)
    {
        if (header.BodyLength > maxBytes)
        {
            throw new PeerProtocolException($"a {header.Type} frame of {header.BodyLength} bytes exceeds the limit of {maxBytes}");
        }

        if (_scratch.Length < header.BodyLength)
        {
            _scratch = new byte[BitOperations.RoundUpToPowerOf2((uint)header.BodyLength)];
        }

        var body = _scratch.AsMemory(0, header.BodyLength);
        await ReadExactAsync(body, timeout).ConfigureAwait(false);
        return body;
    }

    /// <summary>Reads and checks the 64-byte block header at the start of a Block frame's body.</summary>
    public async ValueTask<(BlockStatus Status, BlockHeader Header)> ReadBlockHeaderAsync(TimeSpan timeout)
    {
        await ReadExactAsync(_blockHeader, timeout).ConfigureAwait(false);
        var status = BlockHeader.TryRead(_blockHeader, out var header);
        return (status, header);
    }

    /// <summary>
    /// When the next <paramref name="length"/> bytes are already buffered in one pipe segment, exposes them in place
    /// (no copy); release them with <see cref="ConsumePeeked"/>. Otherwise returns false and consumes nothing.
    /// </summary>
    public bool TryPeekContiguous(int length, out ReadOnlyMemory<byte> bytes)
    {
        if (Reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            if (buffer.First.Length >= length)
            {
                bytes = buffer.First[..length];
                _peekEnd = buffer.GetPosition(length);
                return true;
            }

            Reader.AdvanceTo(buffer.Start);
        }

        bytes = default;
        return false;
    }

    /// <summary>Consumes the bytes exposed by <see cref="TryPeekContiguous"/>.</summary>
    public void ConsumePeeked(int length)
    {
        Reader.AdvanceTo(_peekEnd);
        _counters.BytesIn(length);
    }

    /// <summary>Discards the next <paramref name="length"/> bytes (the rest of a frame that is refused but not fatal).</summary>
    public async ValueTask SkipAsync(long length, TimeSpan timeout)
    {
        while (length > 0)
        {
            var result = await Reader.ReadAsync(Arm(timeout)).ConfigureAwait(false);
            var take = Math.Min(result.Buffer.Length, length);
            Reader.AdvanceTo(result.Buffer.GetPosition(take));
            length -= take;
            _counters.BytesIn(take);
            if (take == 0 && result.IsCompleted)
            {
                throw new PeerDataException($"{Remote} closed the connection inside a frame");
            }
        }
    }

    /// <summary>Starts a frame in the pipe and returns its body to fill; finish with <see cref="CommitFrame"/>.</summary>
    public Span<byte> StartFrame(FrameType type, int bodyLength, uint requestId, int index = 0)
    {
        var span = Writer.GetSpan(FrameHeader.Size + bodyLength);
        new FrameHeader(type, bodyLength, requestId, index).WriteTo(span);
        return span.Slice(FrameHeader.Size, bodyLength);
    }

    /// <summary>Commits a frame started with <see cref="StartFrame"/>.</summary>
    public void CommitFrame(int bodyLength)
    {
        Writer.Advance(FrameHeader.Size + bodyLength);
        _counters.BytesOut(FrameHeader.Size + bodyLength);
    }

    /// <summary>Sends what the pipe holds.</summary>
    public async ValueTask FlushAsync(TimeSpan timeout)
    {
        var result = await Writer.FlushAsync(Arm(timeout)).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the flush was cancelled");
        }
    }

    /// <summary>Flushes the pipe, then writes <paramref name="bytes"/> straight to the socket (no copy).</summary>
    public ValueTask<FlushResult> WriteDirectAsync(ReadOnlyMemory<byte> bytes, TimeSpan timeout)
    {
        _counters.BytesOut(bytes.Length);
        return Writer.WriteAsync(bytes, Arm(timeout));
    }

    /// <summary>
    /// Sends the frame <paramref name="prefix"/> + <paramref name="payload"/> from byte <paramref name="offset"/> on,
    /// straight from where it lies, for as long as the socket takes bytes without waiting. Returns the bytes sent. The
    /// pipe must hold no unflushed bytes.
    /// </summary>
    public int SendInPlace(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload, int offset)
    {
        var socket = _stream.Socket;
        var total = prefix.Length + payload.Length;
        var at = offset;
        // Non-blocking for this call only: the caller holds the store's memory in place and must not wait for the peer.
        // Async operations on the socket do not depend on this flag.
        socket.Blocking = false;
        try
        {
            while (at < total)
            {
                var n = socket.Send(FrameAt(prefix, payload, at), SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    break;
                }

                at += error == SocketError.Success ? n : throw new SocketException((int)error);
            }
        }
        finally
        {
            socket.Blocking = true;
        }

        _counters.BytesOut(at - offset);
        return at - offset;
    }

    /// <summary>
    /// The frame <paramref name="prefix"/> + <paramref name="payload"/> from byte <paramref name="at"/> to the end of
    /// whichever of the two holds it.
    /// </summary>
    public static ReadOnlySpan<byte> FrameAt(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload, int at) =>
        at < prefix.Length ? prefix[at..] : payload[(at - prefix.Length)..];

    /// <summary>Copies bytes <paramref name="at"/>.. of the frame <paramref name="prefix"/> + <paramref name="payload"/> into all of <paramref name="destination"/>.</summary>
    public static void CopyFrame(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload, int at, Span<byte> destination)
    {
        for (var copied = 0; copied < destination.Length;)
        {
            var run = FrameAt(prefix, payload, at + copied);
            run = run[..Math.Min(run.Length, destination.Length - copied)];
            run.CopyTo(destination[copied..]);
            copied += run.Length;
        }
    }

    /// <summary>Writes an Error frame (code and text) into the pipe.</summary>
    public void WriteError(PeerRefusal code, string text, uint requestId = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(text.Length > MaxErrorText ? text[..MaxErrorText] : text);
        var body = StartFrame(FrameType.Error, 2 + bytes.Length, requestId);
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)code);
        bytes.CopyTo(body[2..]);
        CommitFrame(2 + bytes.Length);
    }

    /// <summary>Reads the body of an Error frame.</summary>
    public async ValueTask<(PeerRefusal Code, string Text)> ReadErrorAsync(FrameHeader header, TimeSpan timeout)
    {
        var body = await ReadBodyAsync(header, PeerProtocol.MaxControlBody, timeout).ConfigureAwait(false);
        if (body.Length < 2)
        {
            throw new PeerProtocolException($"{Remote} sent a truncated Error frame");
        }

        var code = (PeerRefusal)BinaryPrimitives.ReadUInt16LittleEndian(body.Span);
        return (Enum.IsDefined(code) ? code : PeerRefusal.Unknown, Encoding.UTF8.GetString(body.Span[2..]));
    }

    /// <summary>
    /// Sends an Error frame and closes: the send side is shut first and the peer's bytes are drained for a moment, so
    /// the error is not lost to a reset when the peer still had bytes in flight.
    /// </summary>
    public async ValueTask RefuseAsync(PeerRefusal code, string text, TimeSpan linger, uint requestId = 0)
    {
        try
        {
            WriteError(code, text, requestId);
            await FlushAsync(linger).ConfigureAwait(false);
            _stream.Socket.Shutdown(SocketShutdown.Send);
            var token = Arm(linger);
            while (true)
            {
                var result = await Reader.ReadAsync(token).ConfigureAwait(false);
                Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone or lingered too long; the error was sent as far as it could be.
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _aborted = true;
        await Reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            // Buffered bytes are dropped, not flushed: a connection is disposed when it is broken or idle.
            Writer.CancelPendingFlush();
            await _stream.DisposeAsync().ConfigureAwait(false);
            await Writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing a broken socket may fail; it is closed either way.
        }

        lock (_deadlineLock)
        {
            _deadline.Dispose();
        }
    }

    private static FrameHeader ParseHeader(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(bytes);
        return FrameHeader.Read(bytes);
    }
}
