using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace KvTier.Server;

/// <summary>Source-generated log messages of the server. Event ids are stable: dashboards and alerts key on them.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "kvtier listening on {Address} (node {NodeId}, memory {Memory}, max block {MaxBlock}, seed fingerprint {SeedFingerprint})")]
    public static partial void Listening(ILogger logger, string address, string nodeId, string memory, string maxBlock, string seedFingerprint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Settings} given, but {Feature} is not yet available on this node: running single-node without it")]
    public static partial void FeatureUnavailable(ILogger logger, string settings, string feature);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "creating the block store: memory {Memory}, max block {MaxBlock}, SSD {SsdDir}")]
    public static partial void CreatingStore(ILogger logger, string memory, string maxBlock, string ssdDir);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "kvtier stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "operations endpoint on {Address}: /metrics, /healthz, /readyz")]
    public static partial void OperationsListening(ILogger logger, string address);

    [LoggerMessage(EventId = 10, Message = "rejected {Method} from {Peer}: {Code} {Detail}")]
    public static partial void Rejected(ILogger logger, LogLevel level, string method, string peer, StatusCode code, string detail);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "block {Key} failed verification on {Method}; nothing was sent")]
    public static partial void CorruptBlock(ILogger logger, string key, string method);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "transfer accelerator: {Accelerator} (shared-memory pools move on the host path)")]
    public static partial void Accelerator(ILogger logger, string accelerator);
}
