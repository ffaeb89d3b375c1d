namespace KvTier.Cluster.Membership;

/// <summary>etcd could not be reached (or refused the request) while joining: the message names the URL and the fix.</summary>
public sealed class EtcdUnavailableException(string url, string reason, Exception? inner = null)
    : Exception($"cannot reach etcd at {url}: {reason}. Start etcd there (e.g. `etcd --listen-client-urls {url} "
        + $"--advertise-client-urls {url}`), point --etcd at a running etcd, or leave --etcd out to run with --peers or single-node", inner)
{
    /// <summary>The etcd URL that failed.</summary>
    public string Url { get; } = url;
}
