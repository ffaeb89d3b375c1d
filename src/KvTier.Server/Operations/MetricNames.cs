namespace KvTier.Server.Operations;

/// <summary>The metric and label names <c>/metrics</c> publishes: dashboards and alerts key on them, keep them stable.</summary>
public static class MetricNames
{
    /// <summary>Counter of looked-up blocks by <c>result</c> (hit_local, hit_remote, miss).</summary>
    public const string LookupBlocks = "kvtier_lookup_blocks_total";

    /// <summary>Counter of prompt tokens covered by cached prefixes.</summary>
    public const string HitTokens = "kvtier_hit_tokens_total";

    /// <summary>Counter of payload bytes by <c>op</c> and <c>source</c>.</summary>
    public const string Bytes = "kvtier_bytes_total";

    /// <summary>Gauge: bytes written to the store / bytes read from it.</summary>
    public const string WriteReadRatio = "kvtier_cache_write_read_ratio";

    /// <summary>Counter of blocks that left the store by <c>cause</c> (capacity, ttl, corrupt, delete).</summary>
    public const string Evictions = "kvtier_evictions_total";

    /// <summary>Counter of blocks the store copied from near its log's head to the tail, by <c>reason</c> (second_chance, quota, retention).</summary>
    public const string StoreCopies = "kvtier_store_copies_total";

    /// <summary>Histogram of the seconds one block took to obtain, by <c>source</c> (local, peer).</summary>
    public const string FetchSeconds = "kvtier_fetch_seconds";

    /// <summary>Counter of the prefill seconds fetch plans saved (estimated at plan time).</summary>
    public const string PrefillSavedSeconds = "kvtier_prefill_saved_seconds_total";

    /// <summary>Counter of plans by <c>decision</c> (recompute, fetch, split).</summary>
    public const string Plans = "kvtier_plan_total";

    /// <summary>Gauge of the hit rate by <c>turn_bucket</c> (0, 1, 2-3, 4-7, 8+).</summary>
    public const string HitRateByTurn = "kvtier_hit_rate_by_turn";

    /// <summary>Gauge of the store's log bytes by <c>tier</c> (dram, ssd).</summary>
    public const string StoreBytes = "kvtier_store_bytes";

    /// <summary>Gauge of the blocks waiting in the replication queue.</summary>
    public const string ReplicationQueue = "kvtier_replication_queue";

    /// <summary>Gauge per member (<c>peer</c> = node id): 1 up, 0 down.</summary>
    public const string PeerUp = "kvtier_peer_up";

    /// <summary>Gauge of the in-flight prefill leases this node keeps.</summary>
    public const string InflightLeases = "kvtier_inflight_leases";

    /// <summary>Every metric name above, in the order listed.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        LookupBlocks, HitTokens, Bytes, WriteReadRatio, Evictions, StoreCopies, FetchSeconds, PrefillSavedSeconds, Plans, HitRateByTurn,
        StoreBytes, ReplicationQueue, PeerUp, InflightLeases,
    ];

    internal const string ResultLabel = "result";
    internal const string OpLabel = "op";
    internal const string SourceLabel = "source";
    internal const string CauseLabel = "cause";
    internal const string ReasonLabel = "reason";
    internal const string DecisionLabel = "decision";
    internal const string TurnBucketLabel = "turn_bucket";
    internal const string TierLabel = "tier";
    internal const string PeerLabel = "peer";
}
