namespace KvTier.Cluster.DataPlane;

/// <summary>A peer connection failed (connect, I/O, protocol, refusal or timeout); per-block outcomes are statuses instead.</summary>
public class PeerDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PeerDataException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}

/// <summary>The handshake was refused (by the peer or by this node); the message names what differs and the fix.</summary>
public sealed class PeerHandshakeException : PeerDataException
{
    /// <summary>Creates the exception.</summary>
    public PeerHandshakeException(PeerRefusal refusal, string message) : base(message) => Refusal = refusal;

    /// <summary>What differed.</summary>
    public PeerRefusal Refusal { get; }
}

/// <summary>The peer did not answer (or accept bytes) within the configured deadline.</summary>
public sealed class PeerTimeoutException : PeerDataException
{
    /// <summary>Creates the exception.</summary>
    public PeerTimeoutException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}

/// <summary>The peer sent bytes that are not a valid frame in this state; the connection is closed.</summary>
public sealed class PeerProtocolException : PeerDataException
{
    /// <summary>Creates the exception.</summary>
    public PeerProtocolException(string message) : base(message)
    {
    }
}

/// <summary>Why a handshake or a connection was refused (the code of an Error frame).</summary>
public enum PeerRefusal : ushort
{
    /// <summary>Not a refusal code this build knows.</summary>
    Unknown = 0,
    /// <summary>Protocol versions differ.</summary>
    VersionMismatch = 1,
    /// <summary>Cluster names differ.</summary>
    ClusterMismatch = 2,
    /// <summary>Hash-seed fingerprints differ (silent 0 % hit rates otherwise).</summary>
    SeedMismatch = 3,
    /// <summary>This side requires a cluster secret and the other sent none.</summary>
    SecretMissing = 4,
    /// <summary>The other side uses a cluster secret and this one has none.</summary>
    SecretUnexpected = 5,
    /// <summary>The HMAC proof did not match: the secrets differ.</summary>
    SecretMismatch = 6,
    /// <summary>A malformed or unexpected frame.</summary>
    ProtocolViolation = 7,
    /// <summary>The server is at its connection limit.</summary>
    Busy = 8,
    /// <summary>The server is shutting down.</summary>
    ShuttingDown = 9,
}
