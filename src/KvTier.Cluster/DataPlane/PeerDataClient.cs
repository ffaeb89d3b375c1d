using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KvTier.Core;
using KvTier.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Cluster.DataPlane;

/// <summary>
/// Talks to one peer's <see cref="PeerDataServer"/> over a small pool of connections (a request holds one connection;
/// concurrent callers beyond the pool wait for one). Every received block is verified against its checksum before it
/// is delivered or stored. Thread-safe.
/// </summary>
public sealed class PeerDataClient : IAsyncDisposable
{
    private readonly PeerDataClientOptions _options;
    private readonly PeerIdentity _identity;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PeerDataCounters _counters = new();
    private readonly PinnedBufferPool _buffers;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentStack<PeerConnection> _idle = new();
    private readonly ConcurrentDictionary<PeerConnection, byte> _leased = new();
    private volatile bool _disposed;

    /// <summary>A client of the peer at <paramref name="endpoint"/>; connections open on first use.</summary>
    public PeerDataClient(EndPoint endpoint, PeerDataClientOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Endpoint = endpoint;
        _options = options;
        _identity = options.Identity;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _buffers = new PinnedBufferPool(keepPerClass: options.Connections);
        _slots = new SemaphoreSlim(options.Connections, options.Connections);
    }

    /// <summary>The peer's data-plane endpoint.</summary>
    public EndPoint Endpoint { get; }

    /// <summary>A snapshot of the counters.</summary>
    public PeerDataStats GetStats() => _counters.Snapshot();

    /// <summary>
    /// Opens one pooled connection and completes the handshake, so a misconfiguration surfaces now:
    /// <see cref="PeerHandshakeException"/> (refused, with the reason), <see cref="PeerTimeoutException"/>, or
    /// <see cref="PeerDataException"/>.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        var (connection, _) = await LeaseAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(connection, reusable: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches blocks in request order and hands each verified one to <paramref name="onBlock"/> (awaited before the
    /// next is read). Per-key outcomes are in the result; a failed connection is reported there, not thrown.
    /// </summary>
    public Task<PeerBatchResult> GetBatchAsync(string tenant, IReadOnlyList<BlockKey> keys, PeerBlockHandler onBlock,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onBlock);
        return RunBatchAsync(tenant, keys, new HandlerSink(onBlock), cancellationToken);
    }

    /// <summary>
    /// Fetches blocks straight into <paramref name="local"/> (same tenant and keys, remaining TTL and geometry kept);
    /// the store verifies each checksum as it copies the block in. A corrupt block is reported and not stored.
    /// </summary>
    public Task<PeerBatchResult> FetchIntoStoreAsync(string tenant, IReadOnlyList<BlockKey> keys, IBlockStore local,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        return RunBatchAsync(tenant, keys, new StoreSink(local, tenant, keys, _time), cancellationToken);
    }

    /// <summary>Which of <paramref name="keys"/> the peer holds (present and not expired). Throws a <see cref="PeerDataException"/> on failure.</summary>
    public async Task<bool[]> ExistsAsync(string tenant, IReadOnlyList<BlockKey> keys, CancellationToken cancellationToken = default)
    {
        PeerProtocol.ValidateTenant(tenant);
        ArgumentNullException.ThrowIfNull(keys);
        var present = new bool[keys.Count];
        if (keys.Count == 0)
        {
            return present;
        }

        return await WithConnectionAsync(async connection =>
        {
            for (var start = 0; start < keys.Count; start += PeerProtocol.MaxKeysPerRequest)
            {
                var count = Math.Min(PeerProtocol.MaxKeysPerRequest, keys.Count - start);
                var requestId = connection.NextRequestId();
                var size = PeerProtocol.KeyRequestSize(tenant, count);
                PeerProtocol.WriteKeyRequest(connection.StartFrame(FrameType.ExistsRequest, size, requestId), tenant, keys, start, count);
                connection.CommitFrame(size);
                await connection.FlushAsync(_options.RequestTimeout).ConfigureAwait(false);
                var header = await ReadResponseHeaderAsync(connection, FrameType.ExistsResponse, requestId, 0).ConfigureAwait(false);
                var body = await connection.ReadBodyAsync(header, 4 + PeerProtocol.MaxKeysPerRequest, _options.RequestTimeout).ConfigureAwait(false);
                ReadExists(body.Span, present.AsSpan(start, count));
            }

            return present;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a block on the peer (replication). Returns Ok, Corrupt (the peer's checksum check failed: nothing
    /// stored) or TooLarge. Throws a <see cref="PeerDataException"/> when the connection fails.
    /// </summary>
    public Task<BlockStatus> PutAsync(string tenant, BlockKey key, ReadOnlyMemory<byte> payload, ulong geometryFingerprint = 0,
        TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        PutAsync(tenant, key, BlockHeader.For(payload.Span, geometryFingerprint, _time.GetUtcNow().ToUnixTimeMilliseconds()), payload,
            ttl, cancellationToken);

    /// <summary>
    /// Stores a block whose header (checksum) is already known, e.g. read from the local store: no second hashing pass.
    /// The peer verifies the payload against <paramref name="header"/>.
    /// </summary>
    public async Task<BlockStatus> PutAsync(string tenant, BlockKey key, BlockHeader header, ReadOnlyMemory<byte> payload,
        TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        PeerProtocol.ValidateTenant(tenant);
        if (header.PayloadLength != payload.Length)
        {
            throw new ArgumentException($"the header says {header.PayloadLength} payload bytes, the payload has {payload.Length}.", nameof(header));
        }

        if (ttl is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "a TTL must be positive; pass null for no expiry.");
        }

        if (payload.Length > _options.MaxBlockBytes)
        {
            return BlockStatus.TooLarge;
        }

        return await WithConnectionAsync(async connection =>
        {
            var requestId = connection.NextRequestId();
            var prefixLength = PeerProtocol.SizeOf(tenant) + BlockKey.Size + 8 + BlockHeader.Size;
            WritePutPrefix(connection.StartFrame(FrameType.PutRequest, prefixLength + payload.Length, requestId), tenant, key,
                ttl, header);
            connection.CommitFrame(prefixLength);
            if (payload.Length < 64 << 10)
            {
                connection.Writer.Write(payload.Span);
                await connection.FlushAsync(_options.RequestTimeout).ConfigureAwait(false);
            }
            else
            {
                await connection.WriteDirectAsync(payload, _options.RequestTimeout).ConfigureAwait(false);
            }

            _counters.BlockSent();
            var response = await ReadResponseHeaderAsync(connection, FrameType.PutResponse, requestId, 0).ConfigureAwait(false);
            var body = await connection.ReadBodyAsync(response, 1, _options.RequestTimeout).ConfigureAwait(false);
            return body.Length == 1
                ? PeerProtocol.ReadStatus(body.Span[0], okAllowed: true)
                : throw new PeerProtocolException("a PUT response must hold one status byte");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes every connection; calls in flight fail with a <see cref="PeerDataException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var connection in _leased.Keys)
        {
            connection.Abort();
        }

        await CloseIdleAsync().ConfigureAwait(false);
    }

    private async Task<PeerBatchResult> RunBatchAsync(string tenant, IReadOnlyList<BlockKey> keys, BlockSink sink, CancellationToken cancellationToken)
    {
        PeerProtocol.ValidateTenant(tenant);
        ArgumentNullException.ThrowIfNull(keys);
        var statuses = new BlockStatus[keys.Count];
        if (keys.Count == 0)
        {
            return new PeerBatchResult(statuses, null);
        }

        var answered = 0;
        try
        {
            return await WithConnectionAsync(async connection =>
            {
                for (var start = 0; start < keys.Count; start += PeerProtocol.MaxKeysPerRequest)
                {
                    var count = Math.Min(PeerProtocol.MaxKeysPerRequest, keys.Count - start);
                    var requestId = connection.NextRequestId();
                    var size = PeerProtocol.KeyRequestSize(tenant, count);
                    PeerProtocol.WriteKeyRequest(connection.StartFrame(FrameType.GetRequest, size, requestId), tenant, keys, start, count);
                    connection.CommitFrame(size);
                    await connection.FlushAsync(_options.RequestTimeout).ConfigureAwait(false);
                    for (var i = 0; i < count; i++, answered++)
                    {
                        statuses[start + i] = await ReceiveOneAsync(connection, requestId, i, tenant, keys[start + i], sink, start + i)
                            .ConfigureAwait(false);
                    }
                }

                return new PeerBatchResult(statuses, null);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (HandlerException e)
        {
            e.Rethrow();
            throw;
        }
        catch (PeerDataException failure) when (!cancellationToken.IsCancellationRequested)
        {
            statuses.AsSpan(answered).Fill(BlockStatus.Timeout);
            PeerLog.BatchFailed(_logger, Endpoint.ToString()!, keys.Count - answered, keys.Count, failure.Message);
            return new PeerBatchResult(statuses, failure);
        }
    }

    /// <summary>
    /// Runs one request on a pooled connection. A connection failure becomes a typed <see cref="PeerDataException"/>.
    /// A reused connection that fails before any answer (the peer restarted or closed it while idle) is retried once
    /// on a fresh connection: every request is idempotent.
    /// </summary>
    private async Task<T> WithConnectionAsync<T>(Func<PeerConnection, Task<T>> request, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (connection, reused) = await LeaseAsync(cancellationToken).ConfigureAwait(false);
            var framesBefore = connection.FramesRead;
            var reusable = false;
            try
            {
                using var link = Link(connection, cancellationToken);
                var result = await request(connection).ConfigureAwait(false);
                reusable = true;
                return result;
            }
            catch (Exception e) when (IsPeerFailure(e, cancellationToken))
            {
                var failure = ToPeerFailure(e, connection);
                if (attempt == 0 && reused && connection.FramesRead == framesBefore && failure is not (PeerTimeoutException or PeerProtocolException))
                {
                    PeerLog.StaleConnection(_logger, connection.Remote, failure.Message);
                    continue;
                }

                throw failure;
            }
            finally
            {
                await ReleaseAsync(connection, reusable).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<BlockStatus> ReceiveOneAsync(PeerConnection connection, uint requestId, int index, string tenant,
        BlockKey key, BlockSink sink, int keyIndex)
    {
        var frame = await ReadResponseHeaderAsync(connection, null, requestId, index).ConfigureAwait(false);
        if (frame.Type == FrameType.BlockStatus)
        {
            var body = await connection.ReadBodyAsync(frame, 1, _options.RequestTimeout).ConfigureAwait(false);
            return body.Length == 1
                ? PeerProtocol.ReadStatus(body.Span[0], okAllowed: false)
                : throw new PeerProtocolException("a BlockStatus frame must hold one status byte");
        }

        if (frame.Type != FrameType.Block || frame.BodyLength < BlockHeader.Size)
        {
            throw new PeerProtocolException($"expected a Block or BlockStatus frame, got {frame.Type} of {frame.BodyLength} bytes");
        }

        var length = frame.BodyLength - BlockHeader.Size;
        var (headerStatus, header) = await connection.ReadBlockHeaderAsync(_options.RequestTimeout).ConfigureAwait(false);
        BlockStatus status;
        if (headerStatus != BlockStatus.Ok || header.PayloadLength != length)
        {
            await connection.SkipAsync(length, _options.RequestTimeout).ConfigureAwait(false);
            status = BlockStatus.Corrupt;
        }
        else if (length > _options.MaxBlockBytes)
        {
            await connection.SkipAsync(length, _options.RequestTimeout).ConfigureAwait(false);
            return BlockStatus.TooLarge;
        }
        else if (connection.TryPeekContiguous(length, out var inPlace))
        {
            // The whole payload sits in one pipe segment: verify and deliver it where it is.
            connection.Disarm();
            status = await sink.AcceptAsync(keyIndex, header, inPlace).ConfigureAwait(false);
            connection.ConsumePeeked(length);
        }
        else
        {
            var buffer = _buffers.Rent(length);
            try
            {
                await connection.ReadExactAsync(buffer.AsMemory(0, length), _options.RequestTimeout).ConfigureAwait(false);
                connection.Disarm();
                status = await sink.AcceptAsync(keyIndex, header, buffer.AsMemory(0, length)).ConfigureAwait(false);
            }
            finally
            {
                _buffers.Return(buffer);
            }
        }

        if (status == BlockStatus.Corrupt)
        {
            _counters.CorruptReceived();
            PeerLog.CorruptReceived(_logger, key.ToString(), tenant, connection.Remote);
        }
        else if (status == BlockStatus.Ok)
        {
            _counters.BlockReceived();
        }

        return status;
    }

    // Reads the next response frame of a request; an Error frame from the peer becomes its exception.
    private async ValueTask<FrameHeader> ReadResponseHeaderAsync(PeerConnection connection, FrameType? expected, uint requestId, int index)
    {
        var header = await connection.ReadHeaderAsync(_options.RequestTimeout).ConfigureAwait(false)
            ?? throw new PeerDataException($"peer {connection.Remote} closed the connection before answering");
        if (header.Type == FrameType.Error)
        {
            var (code, text) = await connection.ReadErrorAsync(header, _options.RequestTimeout).ConfigureAwait(false);
            throw code == PeerRefusal.ProtocolViolation
                ? new PeerProtocolException($"peer {connection.Remote} closed the connection: {text}")
                : new PeerDataException($"peer {connection.Remote} closed the connection ({code}): {text}");
        }

        if (header.RequestId != requestId || header.Index != index || (expected is { } type && header.Type != type))
        {
            throw new PeerProtocolException(
                $"expected {expected?.ToString() ?? "a response"} to request {requestId} at index {index}, got {header.Type} for request {header.RequestId} at {header.Index}");
        }

        return header;
    }

    private static void ReadExists(ReadOnlySpan<byte> body, Span<bool> present)
    {
        if (body.Length != 4 + present.Length || BinaryPrimitives.ReadInt32LittleEndian(body) != present.Length)
        {
            throw new PeerProtocolException($"an EXISTS response must answer {present.Length} keys");
        }

        for (var i = 0; i < present.Length; i++)
        {
            present[i] = body[4 + i] switch
            {
                0 => false,
                1 => true,
                var b => throw new PeerProtocolException($"presence flag {b} is neither 0 nor 1"),
            };
        }
    }

    private static void WritePutPrefix(Span<byte> body, string tenant, in BlockKey key, TimeSpan? ttl, in BlockHeader header)
    {
        var offset = PeerProtocol.WriteString(body, tenant);
        key.AsSpan().CopyTo(body[offset..]);
        offset += BlockKey.Size;
        BinaryPrimitives.WriteInt64LittleEndian(body[offset..], ttl is { } t ? Math.Max(1, (long)Math.Ceiling(t.TotalMilliseconds)) : 0);
        header.WriteTo(body[(offset + 8)..]);
    }

    private async ValueTask<(PeerConnection Connection, bool Reused)> LeaseAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            PeerConnection? connection = null;
            while (connection is null && _idle.TryPop(out var idle))
            {
                if (Stopwatch.GetElapsedTime(idle.IdleSince) < _options.IdleTimeout)
                {
                    connection = idle;
                }
                else
                {
                    await CloseAsync(idle).ConfigureAwait(false);
                }
            }

            var reused = connection is not null;
            connection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            _leased.TryAdd(connection, 0);
            return (connection, reused);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    private async ValueTask ReleaseAsync(PeerConnection connection, bool reusable)
    {
        _leased.TryRemove(connection, out _);
        if (reusable && !_disposed)
        {
            connection.Disarm();
            connection.IdleSince = Stopwatch.GetTimestamp();
            _idle.Push(connection);
        }
        else
        {
            await CloseAsync(connection).ConfigureAwait(false);
            if (!reusable)
            {
                // A broken connection usually means a restarted or failing peer: its idle siblings are suspect too.
                await CloseIdleAsync().ConfigureAwait(false);
            }
        }

        _slots.Release();
        if (_disposed)
        {
            await CloseIdleAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<PeerConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var socket = Endpoint.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            ? new Socket(Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(_options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(Endpoint, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                _counters.Timeout();
                throw new PeerTimeoutException($"connecting to peer {Endpoint} timed out after {_options.ConnectTimeout.TotalSeconds:0.###} s");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new PeerDataException($"cannot connect to peer {Endpoint}: {e.Message}", e);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        var connection = new PeerConnection(socket, _counters, _options.PipeBufferBytes);
        _counters.Opened();
        try
        {
            using var link = Link(connection, cancellationToken);
            var peer = await PeerHandshake.ConnectAsync(connection, _identity, _options.ConnectTimeout).ConfigureAwait(false);
            PeerLog.Connected(_logger, connection.Remote, peer.NodeId);
            return connection;
        }
        catch (PeerHandshakeException e)
        {
            _counters.HandshakeRefused();
            PeerLog.HandshakeRefused(_logger, connection.Remote, e.Message);
            await CloseAsync(connection).ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (IsPeerFailure(e, cancellationToken))
        {
            // Classify before closing: closing marks the connection aborted, which would hide a timeout.
            var failure = ToPeerFailure(e, connection, $"{_options.ConnectTimeout.TotalSeconds:0.###} s (handshake)");
            await CloseAsync(connection).ConfigureAwait(false);
            throw failure;
        }
        catch
        {
            await CloseAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask CloseAsync(PeerConnection connection)
    {
        _counters.Closed();
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask CloseIdleAsync()
    {
        while (_idle.TryPop(out var connection))
        {
            await CloseAsync(connection).ConfigureAwait(false);
        }
    }

    private static CancellationTokenRegistration Link(PeerConnection connection, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((PeerConnection)state!).Abort(), connection)
            : default;

    // Failures of the peer or the connection; the caller's own cancellation and bugs propagate unchanged.
    private static bool IsPeerFailure(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && e is PeerDataException or IOException or SocketException or OperationCanceledException or ObjectDisposedException;

    private PeerDataException ToPeerFailure(Exception e, PeerConnection? connection, string? deadline = null)
    {
        switch (e)
        {
            case PeerDataException peer:
                if (peer is PeerProtocolException)
                {
                    _counters.ProtocolError();
                }

                return peer;
            case OperationCanceledException when connection is { TimedOut: true }:
                _counters.Timeout();
                return new PeerTimeoutException(
                    $"peer {Endpoint} did not answer within {deadline ?? $"{_options.RequestTimeout.TotalSeconds:0.###} s (request timeout)"}", e);
            case OperationCanceledException or ObjectDisposedException when _disposed:
                return new PeerDataException($"the client of peer {Endpoint} was disposed", e);
            default:
                return new PeerDataException($"connection to peer {Endpoint} failed: {e.Message}", e);
        }
    }
}
