using KvTier.Store;

namespace KvTier.Server.Operations;

/// <summary>
/// Reads, before each scrape, what other parts already count: the store's tiers, evictions and byte totals, the
/// cluster's replication queue, replicated and fetched bytes and member states, and the live prefill leases.
/// Created once the store and the services exist; until then those series stay at zero.
/// </summary>
internal sealed class ScrapeCollector
{
    private readonly ServerMetrics _metrics;
    private readonly IBlockStore _store;
    private readonly ClusterRuntime _cluster;
    private readonly PlanningService _planning;

    private ScrapeCollector(ServerMetrics metrics, IBlockStore store, ClusterRuntime cluster, PlanningService planning)
    {
        _metrics = metrics;
        _store = store;
        _cluster = cluster;
        _planning = planning;
    }

    /// <summary>Registers the collection with <paramref name="metrics"/>' registry (for the registry's lifetime).</summary>
    public static void Register(ServerMetrics metrics, IBlockStore store, ClusterRuntime cluster, PlanningService planning) =>
        metrics.Registry.AddBeforeCollectCallback(new ScrapeCollector(metrics, store, cluster, planning).Collect);

    private void Collect()
    {
        var m = _metrics;
        var s = _store.GetStats();
        m.StoreDram.Set(s.DramBytes);
        m.StoreSsd.Set(s.SsdBytes);
        // The store counts these since start; IncTo keeps the counters monotonic.
        m.EvictedCapacity.IncTo(s.EvictionsCapacity);
        m.EvictedTtl.IncTo(s.EvictionsTtl);
        m.EvictedCorrupt.IncTo(s.Corruptions);
        m.EvictedDelete.IncTo(s.EvictionsDelete);
        m.CopiedSecondChance.IncTo(s.SecondChanceCopies);
        m.CopiedQuota.IncTo(s.QuotaCopies);
        m.CopiedRetention.IncTo(s.RetentionCopies);
        m.WriteReadRatio.Set(s.GetPayloadBytes == 0 ? 0 : (double)s.PutPayloadBytes / s.GetPayloadBytes);

        if (_cluster.Node is { } node)
        {
            m.ReplicationQueue.Set(Math.Max(0, node.ReplicationQueue));
            m.ReplicatedBytes.IncTo(node.ReplicatedBytes);
            m.FetchedBytes.IncTo(node.FetchedBytes);
            m.PeerUp.Publish(node.View);
        }
        else
        {
            m.ReplicationQueue.Set(0);
            m.PeerUp.PublishAlone(up: true);
        }

        _planning.Leases.Sweep(); // lapsed leases are not in flight any more
        m.InflightLeases.Set(_planning.Leases.Count);
    }
}
