using Microsoft.Extensions.Logging;

namespace KvTier.Cluster.DataPlane;

/// <summary>Source-generated data-plane logs (event ids 4000–4099, stable: alerts key on them).</summary>
internal static partial class PeerLog
{
    [LoggerMessage(4000, LogLevel.Information, "Peer data plane listening on {Endpoint} (node {NodeId}, cluster {Cluster}, secret {Secret})")]
    public static partial void Listening(ILogger logger, string endpoint, string nodeId, string cluster, string secret);

    [LoggerMessage(4001, LogLevel.Warning, "Refused peer {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string reason);

    [LoggerMessage(4002, LogLevel.Warning, "Closed the connection from {Remote}: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string remote, string reason);

    [LoggerMessage(4003, LogLevel.Warning, "Block {Key} of tenant {Tenant} from {Remote} failed its checksum; it was not stored")]
    public static partial void CorruptPut(ILogger logger, string key, string tenant, string remote);

    [LoggerMessage(4004, LogLevel.Debug, "Connection from {Remote} ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string remote, string reason);

    [LoggerMessage(4005, LogLevel.Warning, "Block {Key} of tenant {Tenant} from {Remote} failed verification on receipt; reported as Corrupt")]
    public static partial void CorruptReceived(ILogger logger, string key, string tenant, string remote);

    [LoggerMessage(4006, LogLevel.Warning, "Peer {Remote} failed with {Remaining} of {Total} keys outstanding: {Reason}")]
    public static partial void BatchFailed(ILogger logger, string remote, int remaining, int total, string reason);

    [LoggerMessage(4007, LogLevel.Warning, "Refused a connection from {Remote}: {Active} connections are open (max {Max})")]
    public static partial void Busy(ILogger logger, string remote, long active, int max);

    [LoggerMessage(4008, LogLevel.Error, "Handshake with {Remote} refused: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(4010, LogLevel.Debug, "Pooled connection to {Remote} was stale ({Reason}); retrying on a fresh one")]
    public static partial void StaleConnection(ILogger logger, string remote, string reason);

    [LoggerMessage(4009, LogLevel.Debug, "Connected to peer {Remote} (node {NodeId})")]
    public static partial void Connected(ILogger logger, string remote, string nodeId);
}
