using Grpc.Health.V1;
using Grpc.HealthCheck;

namespace KvTier.Server.Operations;

/// <summary>Where a sidecar is in its life; only <see cref="Serving"/> may report SERVING.</summary>
internal enum ServerPhase
{
    /// <summary>The block store is being created (it preallocates its memory: about 2 s per GiB).</summary>
    AllocatingStore,

    /// <summary>The gRPC host is starting.</summary>
    StartingHost,

    /// <summary>Joining the cluster (membership starting).</summary>
    Joining,

    /// <summary>Serving: the store is ready and, in a cluster, the node has joined.</summary>
    Serving,

    /// <summary>Shutting down: no new work.</summary>
    Stopping,
}

/// <summary>
/// The one answer to "may this node take traffic?", shared by <c>grpc.health.v1.Health</c> (SERVING / NOT_SERVING for
/// the whole server and for <c>kvtier.v1.KvTier</c>) and <c>/readyz</c> (200, or 503 with a one-line reason).
/// Ready means: the store is allocated, the gRPC host accepts calls, and in a cluster the membership has seen this node.
/// </summary>
internal sealed class ServerReadiness(string clusterName, bool clustered)
{
    private static readonly string s_serviceName = Protos.V1.KvTier.Descriptor.FullName;

    private readonly Lock _lock = new();
    private ServerPhase _phase;
    private HealthServiceImpl? _health;
    private ClusterRuntime? _cluster;
    private bool? _published;

    /// <summary>Connects the gRPC health service (it reports NOT_SERVING until ready) and the cluster side.</summary>
    public void Attach(HealthServiceImpl health, ClusterRuntime cluster)
    {
        lock (_lock)
        {
            _health = health;
            _cluster = cluster;
            _published = null;
        }

        Publish();
    }

    /// <summary>Moves to <paramref name="phase"/> and updates the health service.</summary>
    public void Enter(ServerPhase phase)
    {
        lock (_lock)
        {
            _phase = phase;
        }

        Publish();
    }

    /// <summary>True when the node may take traffic; otherwise <paramref name="reason"/> says why not, in one line.</summary>
    public bool IsReady(out string reason)
    {
        ServerPhase phase;
        ClusterRuntime? cluster;
        lock (_lock)
        {
            (phase, cluster) = (_phase, _cluster);
        }

        reason = phase switch
        {
            ServerPhase.AllocatingStore => "starting: the block store is allocating its memory",
            ServerPhase.StartingHost => "starting: the gRPC host is not accepting calls yet",
            ServerPhase.Joining => $"starting: joining cluster '{clusterName}'",
            ServerPhase.Stopping => "shutting down",
            _ when clustered && !HasJoined(cluster) => $"not joined: the membership of cluster '{clusterName}' has not seen this node",
            _ => "ready",
        };
        return reason == "ready";
    }

    /// <summary>Sets the gRPC health status from <see cref="IsReady"/> when it changed.</summary>
    public void Publish()
    {
        var serving = IsReady(out _);
        lock (_lock)
        {
            if (_health is null || _published == serving)
            {
                return;
            }

            var status = serving ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing;
            _health.SetStatus("", status);
            _health.SetStatus(s_serviceName, status);
            _published = serving;
        }
    }

    private static bool HasJoined(ClusterRuntime? cluster) =>
        cluster?.Node is { } node && node.View.Members.Any(m => m.NodeId == node.View.Self.NodeId);
}
