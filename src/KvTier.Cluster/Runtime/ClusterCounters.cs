namespace KvTier.Cluster.Runtime;

/// <summary>Replication and remote-fetch counters.</summary>
internal sealed class ClusterCounters
{
    private long _queued, _replicated, _replicatedBytes, _failures, _fetches, _fetchedBytes, _fetchMisses, _hedges, _repaired;

    public long Queued => Volatile.Read(ref _queued);
    public long Replicated => Volatile.Read(ref _replicated);
    public long ReplicatedBytes => Volatile.Read(ref _replicatedBytes);
    public long Failures => Volatile.Read(ref _failures);
    public long Fetches => Volatile.Read(ref _fetches);
    public long FetchedBytes => Volatile.Read(ref _fetchedBytes);
    public long FetchMisses => Volatile.Read(ref _fetchMisses);
    public long Hedges => Volatile.Read(ref _hedges);
    public long Repaired => Volatile.Read(ref _repaired);
    public void RepairedOne() => Interlocked.Increment(ref _repaired);

    public void Enqueued() => Interlocked.Increment(ref _queued);
    public void Dequeued() => Interlocked.Decrement(ref _queued);
    public void ReplicaStored(long bytes)
    {
        Interlocked.Increment(ref _replicated);
        Interlocked.Add(ref _replicatedBytes, bytes);
    }

    public void ReplicaFailed() => Interlocked.Increment(ref _failures);
    public void Fetched(long bytes)
    {
        Interlocked.Increment(ref _fetches);
        Interlocked.Add(ref _fetchedBytes, bytes);
    }

    public void FetchMissed() => Interlocked.Increment(ref _fetchMisses);
    public void Hedged() => Interlocked.Increment(ref _hedges);
}
