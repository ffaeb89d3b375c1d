using KvTier.Transfer;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Engine;

/// <summary>Engine API logs (event ids 3000–3099).</summary>
internal static partial class EngineLog
{
    [LoggerMessage(3000, LogLevel.Information, "Registered {PoolId}: {Layout}, {Blocks} blocks of {BlockBytes} bytes")]
    public static partial void PoolRegistered(ILogger logger, string poolId, KvPoolLayout layout, int blocks, long blockBytes);

    [LoggerMessage(3001, LogLevel.Warning, "Dropped {PoolId}: {Reason}")]
    public static partial void PoolDropped(ILogger logger, string poolId, string reason);

    [LoggerMessage(3002, LogLevel.Information, "Engine request rejected: {Reason}")]
    public static partial void Rejected(ILogger logger, string reason);
}
