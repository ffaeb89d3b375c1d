using System.Diagnostics;
using KvTier.Policy;
using Prometheus;

namespace KvTier.Server.Operations;

/// <summary>
/// The Prometheus metrics of one sidecar, in a registry of its own (several servers share a test process, so the
/// static default registry is never used). Every series exists at zero from the start: labelled children are created
/// here and kept in fields, so a hot path increments a cached child and never looks a label up. Counters move where the
/// work happens (service methods, the transfer pipeline); what other parts already count (the store's evictions and
/// tiers, the cluster's replication and fetches, leases) is read on scrape (<see cref="ScrapeCollector"/>).
/// </summary>
internal sealed class ServerMetrics
{
    /// <summary>Upper bounds of the fetch latency histogram: 25 µs (a local 64 KiB read) doubling to about 3.3 s.</summary>
    internal static readonly double[] FetchBuckets = Histogram.ExponentialBuckets(25e-6, 2, 18);

    private readonly Counter.Child _lookupHitLocal;
    private readonly Counter.Child _lookupHitRemote;
    private readonly Counter.Child _lookupMiss;
    private readonly Counter _hitTokens;
    private readonly Counter.Child _putLocal;
    private readonly Counter.Child _getLocal;
    private readonly Counter.Child _offloadEngine;
    private readonly Counter.Child _onloadEngine;
    private readonly Histogram.Child _fetchLocal;
    private readonly Histogram.Child _fetchPeer;
    private readonly Counter _prefillSaved;
    private readonly Counter.Child _planRecompute;
    private readonly Counter.Child _planFetch;
    private readonly Counter.Child _planSplit;
    private readonly int _blockTokens;

    /// <summary>Creates every metric of a node named <paramref name="nodeId"/> with <paramref name="blockTokens"/> tokens per block.</summary>
    public ServerMetrics(string nodeId, int blockTokens)
    {
        _blockTokens = blockTokens;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);

        var lookups = factory.CreateCounter(MetricNames.LookupBlocks,
            "Blocks of looked-up chains: in the cached prefix on this node (hit_local) or on a peer (hit_remote), or past it (miss).",
            MetricNames.ResultLabel);
        _lookupHitLocal = lookups.WithLabels("hit_local");
        _lookupHitRemote = lookups.WithLabels("hit_remote");
        _lookupMiss = lookups.WithLabels("miss");
        _hitTokens = factory.CreateCounter(MetricNames.HitTokens, "Prompt tokens covered by the cached prefixes Lookup found (prefix blocks x block tokens).");

        var bytes = factory.CreateCounter(MetricNames.Bytes,
            "Payload bytes moved: put/get over the gRPC bytes API (source local), offload/onload through an engine's pool "
            + "(source engine), replicate to and fetch from peers (source peer).", MetricNames.OpLabel, MetricNames.SourceLabel);
        _putLocal = bytes.WithLabels("put", "local");
        _getLocal = bytes.WithLabels("get", "local");
        _offloadEngine = bytes.WithLabels("offload", "engine");
        _onloadEngine = bytes.WithLabels("onload", "engine");
        ReplicatedBytes = bytes.WithLabels("replicate", "peer");
        FetchedBytes = bytes.WithLabels("fetch", "peer");

        WriteReadRatio = factory.CreateGauge(MetricNames.WriteReadRatio,
            "Payload bytes written to the store / payload bytes read from it since start (0 until something was read).");

        var evictions = factory.CreateCounter(MetricNames.Evictions,
            "Blocks that left the store: memory (and SSD) full, TTL passed, failed verification, deleted on request.", MetricNames.CauseLabel);
        EvictedCapacity = evictions.WithLabels("capacity");
        EvictedTtl = evictions.WithLabels("ttl");
        EvictedCorrupt = evictions.WithLabels("corrupt");
        EvictedDelete = evictions.WithLabels("delete");

        var copies = factory.CreateCounter(MetricNames.StoreCopies,
            "Blocks copied from near the log's head to its tail so they stay in DRAM: read there (second_chance), within a "
            + "tenant's quota (quota), judged worth another trip by KvTier's retention (retention).", MetricNames.ReasonLabel);
        CopiedSecondChance = copies.WithLabels("second_chance");
        CopiedQuota = copies.WithLabels("quota");
        CopiedRetention = copies.WithLabels("retention");

        var fetch = factory.CreateHistogram(MetricNames.FetchSeconds,
            "Time to obtain one block's verified bytes: read from this node's store (local) or fetched from a peer into it (peer).",
            new HistogramConfiguration { LabelNames = [MetricNames.SourceLabel], Buckets = FetchBuckets });
        _fetchLocal = fetch.WithLabels("local");
        _fetchPeer = fetch.WithLabels("peer");

        _prefillSaved = factory.CreateCounter(MetricNames.PrefillSavedSeconds,
            "Prefill time saved by Lookup plans that chose to fetch: the planner's recompute-all TTFT minus the chosen TTFT.");
        var plans = factory.CreateCounter(MetricNames.Plans, "Fetch-vs-recompute plans returned by Lookup, by decision.", MetricNames.DecisionLabel);
        _planRecompute = plans.WithLabels("recompute");
        _planFetch = plans.WithLabels("fetch");
        _planSplit = plans.WithLabels("split");

        HitRateByTurn = new TurnHitRates(factory.CreateGauge(MetricNames.HitRateByTurn,
            "Cached-prefix blocks / looked-up blocks of the Lookups that named their conversation turn, by turn bucket.",
            MetricNames.TurnBucketLabel));

        var storeBytes = factory.CreateGauge(MetricNames.StoreBytes, "Log bytes the store holds, by tier.", MetricNames.TierLabel);
        StoreDram = storeBytes.WithLabels("dram");
        StoreSsd = storeBytes.WithLabels("ssd");
        ReplicationQueue = factory.CreateGauge(MetricNames.ReplicationQueue, "Blocks waiting to be copied to their other owners.");
        PeerUp = new PeerGauges(factory.CreateGauge(MetricNames.PeerUp,
            "1 for each cluster member this node sees up, 0 for one it sees down (itself included: a single node reports itself).",
            MetricNames.PeerLabel), nodeId);
        InflightLeases = factory.CreateGauge(MetricNames.InflightLeases, "In-flight prefill leases this node keeps (BeginPrefill).");
        Registry.AddBeforeCollectCallback(HitRateByTurn.Publish);
    }

    /// <summary>The registry <c>/metrics</c> serves.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Per-turn-bucket hit rates (recorded per Lookup, published on scrape).</summary>
    public TurnHitRates HitRateByTurn { get; }

    /// <summary>Members up or down (set on scrape).</summary>
    public PeerGauges PeerUp { get; }

    internal Counter.Child ReplicatedBytes { get; }
    internal Counter.Child FetchedBytes { get; }
    internal Gauge WriteReadRatio { get; }
    internal Counter.Child EvictedCapacity { get; }
    internal Counter.Child EvictedTtl { get; }
    internal Counter.Child EvictedCorrupt { get; }
    internal Counter.Child EvictedDelete { get; }

    internal Counter.Child CopiedSecondChance { get; }

    internal Counter.Child CopiedQuota { get; }

    internal Counter.Child CopiedRetention { get; }
    internal Gauge.Child StoreDram { get; }
    internal Gauge.Child StoreSsd { get; }
    internal Gauge ReplicationQueue { get; }
    internal Gauge InflightLeases { get; }

    /// <summary>
    /// One Lookup of <paramref name="chainBlocks"/> keys whose cached prefix has <paramref name="prefixBlocks"/> blocks,
    /// <paramref name="remoteBlocks"/> of them held by peers; <paramref name="turn"/> when the request named it.
    /// </summary>
    public void Lookup(int chainBlocks, int prefixBlocks, int remoteBlocks, uint? turn)
    {
        _lookupHitLocal.Inc(prefixBlocks - remoteBlocks);
        _lookupHitRemote.Inc(remoteBlocks);
        _lookupMiss.Inc(chainBlocks - prefixBlocks);
        _hitTokens.Inc((double)prefixBlocks * _blockTokens);
        if (turn is { } t && chainBlocks > 0)
        {
            HitRateByTurn.Record(t, prefixBlocks, chainBlocks);
        }
    }

    /// <summary>A block of <paramref name="bytes"/> stored through the gRPC Put.</summary>
    public void Put(long bytes) => _putLocal.Inc(bytes);

    /// <summary>A block of <paramref name="bytes"/> served by the gRPC Get.</summary>
    public void Get(long bytes) => _getLocal.Inc(bytes);

    /// <summary>A block of <paramref name="bytes"/> offloaded from an engine's pool into the store.</summary>
    public void Offload(long bytes) => _offloadEngine.Inc(bytes);

    /// <summary>A block of <paramref name="bytes"/> onloaded from the store into an engine's pool.</summary>
    public void Onload(long bytes) => _onloadEngine.Inc(bytes);

    /// <summary>A verified read from this node's store that began at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void LocalFetch(long startTimestamp) => _fetchLocal.Observe(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    /// <summary>A fetch from a peer into this node's store that began at <paramref name="startTimestamp"/>.</summary>
    public void PeerFetch(long startTimestamp) => _fetchPeer.Observe(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    /// <summary>A plan Lookup returned; a fetch or split counts its estimated saving (never negative).</summary>
    public void Plan(PlanDecision decision, double recomputeAllTtftMs, double chosenTtftMs)
    {
        switch (decision)
        {
            case PlanDecision.Recompute:
                _planRecompute.Inc();
                return;
            case PlanDecision.Fetch:
                _planFetch.Inc();
                break;
            default:
                _planSplit.Inc();
                break;
        }

        var saved = recomputeAllTtftMs - chosenTtftMs;
        if (double.IsFinite(saved) && saved > 0)
        {
            _prefillSaved.Inc(saved / 1000);
        }
    }
}
