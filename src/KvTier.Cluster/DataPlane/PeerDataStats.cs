namespace KvTier.Cluster.DataPlane;

/// <summary>A snapshot of a data-plane server's or client's counters.</summary>
public readonly record struct PeerDataStats
{
    /// <summary>
    /// Blocks sent (GET responses on a server, PUTs on a client). A server sends a block's payload as stored, with its
    /// checksum; the receiver verifies it.
    /// </summary>
    public long BlocksSent { get; init; }

    /// <summary>
    /// Times a server sending a large block straight from the store's memory found the socket full (a slow or busy
    /// receiver): the next chunk was copied out and sent asynchronously, then the rest went in place again.
    /// </summary>
    public long SendStalls { get; init; }

    /// <summary>Blocks received whose checksum matched (PUTs on a server, GET responses on a client).</summary>
    public long BlocksReceived { get; init; }

    /// <summary>Blocks received whose payload or header failed verification; none was stored or handed out.</summary>
    public long CorruptReceived { get; init; }

    /// <summary>Bytes read from peers (frame headers and bodies).</summary>
    public long BytesIn { get; init; }

    /// <summary>Bytes written to peers.</summary>
    public long BytesOut { get; init; }

    /// <summary>Handshakes refused (by this side, or by the peer for a client).</summary>
    public long HandshakesRefused { get; init; }

    /// <summary>Connections opened (accepted on a server, dialled on a client).</summary>
    public long ConnectionsOpened { get; init; }

    /// <summary>Connections open now.</summary>
    public long ConnectionsActive { get; init; }

    /// <summary>Connections closed because the peer broke the protocol.</summary>
    public long ProtocolErrors { get; init; }

    /// <summary>Connections closed because the peer stalled past a deadline.</summary>
    public long Timeouts { get; init; }
}

/// <summary>Thread-safe counters behind <see cref="PeerDataStats"/>.</summary>
internal sealed class PeerDataCounters
{
    private long _blocksSent;
    private long _sendStalls;
    private long _blocksReceived;
    private long _corruptReceived;
    private long _bytesIn;
    private long _bytesOut;
    private long _handshakesRefused;
    private long _connectionsOpened;
    private long _connectionsActive;
    private long _protocolErrors;
    private long _timeouts;

    public void BlockSent() => Interlocked.Increment(ref _blocksSent);

    public void SendStalled() => Interlocked.Increment(ref _sendStalls);

    public void BlockReceived() => Interlocked.Increment(ref _blocksReceived);

    public void CorruptReceived() => Interlocked.Increment(ref _corruptReceived);

    public void BytesIn(long n) => Interlocked.Add(ref _bytesIn, n);

    public void BytesOut(long n) => Interlocked.Add(ref _bytesOut, n);

    public void HandshakeRefused() => Interlocked.Increment(ref _handshakesRefused);

    public long Opened()
    {
        Interlocked.Increment(ref _connectionsOpened);
        return Interlocked.Increment(ref _connectionsActive);
    }

    public void Closed() => Interlocked.Decrement(ref _connectionsActive);

    public void ProtocolError() => Interlocked.Increment(ref _protocolErrors);

    public void Timeout() => Interlocked.Increment(ref _timeouts);

    public PeerDataStats Snapshot() => new()
    {
        BlocksSent = Volatile.Read(ref _blocksSent),
        SendStalls = Volatile.Read(ref _sendStalls),
        BlocksReceived = Volatile.Read(ref _blocksReceived),
        CorruptReceived = Volatile.Read(ref _corruptReceived),
        BytesIn = Volatile.Read(ref _bytesIn),
        BytesOut = Volatile.Read(ref _bytesOut),
        HandshakesRefused = Volatile.Read(ref _handshakesRefused),
        ConnectionsOpened = Volatile.Read(ref _connectionsOpened),
        ConnectionsActive = Volatile.Read(ref _connectionsActive),
        ProtocolErrors = Volatile.Read(ref _protocolErrors),
        Timeouts = Volatile.Read(ref _timeouts),
    };
}
