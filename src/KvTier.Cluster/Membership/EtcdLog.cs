using Microsoft.Extensions.Logging;

namespace KvTier.Cluster.Membership;

/// <summary>Source-generated etcd membership logs (event ids 4100–4119, stable: alerts key on them).</summary>
internal static partial class EtcdLog
{
    [LoggerMessage(4100, LogLevel.Information, "Joined cluster {Cluster} through etcd {Url} as {NodeId} (lease {LeaseId:x}, TTL {TtlSeconds} s, {Count} members)")]
    public static partial void Joined(ILogger logger, string cluster, string url, string nodeId, long leaseId, long ttlSeconds, int count);

    [LoggerMessage(4101, LogLevel.Information, "Member {NodeId} joined (gRPC {Grpc}, data {Data})")]
    public static partial void MemberJoined(ILogger logger, string nodeId, string grpc, string data);

    [LoggerMessage(4102, LogLevel.Information, "Member {NodeId} left")]
    public static partial void MemberLeft(ILogger logger, string nodeId);

    [LoggerMessage(4103, LogLevel.Error,
        "Member {NodeId} registered with hash-seed fingerprint {Theirs} but this cluster uses {Ours}; it is NOT added to the view "
        + "(it refuses itself): run every node with the same --hash-seed")]
    public static partial void SeedMismatch(ILogger logger, string nodeId, string theirs, string ours);

    [LoggerMessage(4104, LogLevel.Warning, "Lost etcd at {Url}: {Reason}; keeping the last view ({Count} members) and retrying in {DelayMs} ms")]
    public static partial void ConnectionLost(ILogger logger, string url, string reason, int count, long delayMs);

    [LoggerMessage(4105, LogLevel.Information, "Reconnected to etcd at {Url} ({Count} members)")]
    public static partial void Reconnected(ILogger logger, string url, int count);

    [LoggerMessage(4106, LogLevel.Warning, "Lease {LeaseId:x} of node {NodeId} expired while etcd was unreachable; registering again under a new lease")]
    public static partial void LeaseExpired(ILogger logger, long leaseId, string nodeId);

    [LoggerMessage(4107, LogLevel.Warning, "Ignored a malformed member record at {Key}: {Reason}")]
    public static partial void MalformedRecord(ILogger logger, string key, string reason);

    [LoggerMessage(4108, LogLevel.Information, "Left cluster {Cluster}: lease {LeaseId:x} revoked, peers see node {NodeId} leave now")]
    public static partial void Left(ILogger logger, string cluster, long leaseId, string nodeId);

    [LoggerMessage(4109, LogLevel.Warning, "Could not revoke lease {LeaseId:x} on shutdown ({Reason}); peers will see this node leave after the lease TTL")]
    public static partial void RevokeFailed(ILogger logger, long leaseId, string reason);

    [LoggerMessage(4110, LogLevel.Error, "A membership Changed handler threw; the view was updated anyway")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(4111, LogLevel.Warning, "etcd canceled the membership watch ({Reason}); reading the member list again")]
    public static partial void WatchCanceled(ILogger logger, string reason);

    [LoggerMessage(4112, LogLevel.Warning, "This node's registration {Key} was deleted while its lease is alive; registering again")]
    public static partial void SelfDeleted(ILogger logger, string key);

    [LoggerMessage(4113, LogLevel.Debug, "Watching {Prefix} from revision {Revision}")]
    public static partial void Watching(ILogger logger, string prefix, long revision);

    [LoggerMessage(4114, LogLevel.Warning, "Stopped membership for {NodeId} without revoking its lease (simulated crash)")]
    public static partial void Abandoned(ILogger logger, string nodeId);
}
