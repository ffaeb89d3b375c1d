using Google.Protobuf;
using Grpc.Core;
using KvTier.Core;
using KvTier.Server.Auth;
using KvTier.Server.Operations;
using KvTier.Store;
using Microsoft.Extensions.Logging;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

/// <summary>
/// The <c>kvtier.v1.KvTier</c> service over the local block store. It holds no business logic: it checks requests,
/// moves bytes between gRPC messages and pooled buffers, and maps <see cref="BlockStatus"/> to gRPC status codes.
/// Every bad request ends in its own status; nothing here can take down other callers. Each call works in the
/// namespaces of its <see cref="CallScope"/> (the caller's tenant, and <c>shared</c> for reads).
/// </summary>
internal sealed partial class KvTierService : Rpc.KvTier.KvTierBase
{
    /// <summary>Largest payload chunk per message, both ways (far below gRPC's message limit).</summary>
    internal const int MaxChunkBytes = 1 << 20;

    // Smaller chunks than this cost more in per-message overhead than any client can gain.
    private const int MinChunkBytes = 4 << 10;

    private readonly IBlockStore _store;
    private readonly ILogger _logger;
    private readonly string _nodeId;
    private readonly string _seedFingerprint;
    private readonly ClusterRuntime _cluster;
    private readonly PlanningService _planning;
    private readonly ServerMetrics _metrics;

    public KvTierService(IBlockStore store, ServerOptions options, ClusterRuntime cluster, PlanningService planning, ServerMetrics metrics,
        ILogger<KvTierService> logger)
    {
        _store = store;
        _metrics = metrics;
        _cluster = cluster;
        _planning = planning;
        _logger = logger;
        _nodeId = options.NodeId;
        _seedFingerprint = BlockHasher.SeedFingerprintOf(options.HashSeed);
    }

    // Where a call's writes go: its tenant, or shared for an admin key that asked for it.
    private string Writes(ServerCallContext context) =>
        CallScope.Of(context).WriteNamespace ?? throw Reject(context, StatusCode.PermissionDenied, CallScope.WriteDenied);

    private RpcException Reject(ServerCallContext context, StatusCode code, string detail)
    {
        var level = code is StatusCode.InvalidArgument or StatusCode.NotFound ? LogLevel.Debug : LogLevel.Information;
        Log.Rejected(_logger, level, context.Method, context.Peer, code, detail);
        return new RpcException(new Status(code, detail));
    }

    private BlockKey ParseKey(ServerCallContext context, ByteString bytes, string field) =>
        bytes.Length == BlockKey.Size ? new BlockKey(bytes.Span) : throw BadKey(context, field, bytes.Length);

    // Keys of a list are parsed into a caller's span; the field name (keys[i]) is formatted only on failure.
    private void ParseKeys(ServerCallContext context, Google.Protobuf.Collections.RepeatedField<ByteString> keys, Span<BlockKey> into)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            var bytes = keys[i];
            into[i] = bytes.Length == BlockKey.Size ? new BlockKey(bytes.Span) : throw BadKey(context, $"keys[{i}]", bytes.Length);
        }
    }

    private RpcException BadKey(ServerCallContext context, string field, int length) =>
        Reject(context, StatusCode.InvalidArgument,
            $"{field}: a block key is {BlockKey.Size} bytes, got {length}: send the 32-byte key (64 hex digits, as 'kvtier hash' prints)");

    private RpcException Failed(ServerCallContext context, BlockStatus status, in BlockKey key)
    {
        if (status == BlockStatus.Corrupt)
        {
            Log.CorruptBlock(_logger, key.ToString(), context.Method);
        }

        var (code, detail) = status switch
        {
            BlockStatus.NotFound or BlockStatus.Expired => (StatusCode.NotFound, $"block {key} is not cached"),
            BlockStatus.Corrupt => (StatusCode.DataLoss, $"block {key} failed its checksum on this node and was not sent: recompute it"),
            BlockStatus.TooLarge => (StatusCode.ResourceExhausted, $"block {key} exceeds this node's limit of {_store.MaxBlockBytes} bytes (--max-block)"),
            BlockStatus.GeometryMismatch => (StatusCode.FailedPrecondition, $"block {key} was written under another model geometry"),
            _ => (StatusCode.Internal, $"block {key}: the store answered {status}"),
        };
        return Reject(context, code, detail);
    }
}
