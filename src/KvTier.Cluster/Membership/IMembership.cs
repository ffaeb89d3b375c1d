namespace KvTier.Cluster.Membership;

/// <summary>
/// Who is in the cluster: static (<c>--peers</c>) or etcd (<c>--etcd</c>). Implementations publish immutable views and
/// refuse to join a cluster whose hash-seed fingerprint differs from this node's (<see cref="SeedMismatchException"/>).
/// </summary>
public interface IMembership : IAsyncDisposable
{
    /// <summary>The current view.</summary>
    ClusterView View { get; }

    /// <summary>Raised after <see cref="View"/> changed.</summary>
    event Action<ClusterView>? Changed;

    /// <summary>Joins: registers this node and starts watching. Throws <see cref="SeedMismatchException"/> on a seed mismatch.</summary>
    Task StartAsync(CancellationToken cancellationToken);
}
