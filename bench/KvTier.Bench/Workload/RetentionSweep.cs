using KvTier.Policy;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// trace-replay's hit rates by retention and capacity: a real store with KvTier's retention and with FIFO, the KvTier
/// rule on an ideal pool, plain LRU, and the unlimited-cache ceiling. They depend on the trace and the capacities only,
/// not on the link, so one run of the benchmark computes them once per trace and every link's entry reports the same.
/// </summary>
internal sealed class RetentionSweep
{
    /// <summary>Capacities swept besides the chosen one.</summary>
    public static readonly int[] Capacities = [2_500, 5_000, 10_000, 20_000, 50_000];

    private readonly Dictionary<(string File, int Chosen), Result> _done = [];

    /// <summary>The sweep of <paramref name="trace"/> at <see cref="Capacities"/> and <paramref name="chosen"/>, computed on first use.</summary>
    public Result Get(ConversationTrace trace, int chosen, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        if (_done.TryGetValue((trace.Source, chosen), out var done))
        {
            return done;
        }

        var capacities = Capacities.Append(chosen).Distinct().Order().ToArray();
        var points = new List<CapacityPoint>();
        TraceReplayResult? atChosen = null;
        for (var i = 0; i < capacities.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new BenchProgress("trace-replay: retention sweep", (double)i / capacities.Length));
            var store = StoreTraceReplay.Run(trace, capacities[i], StoreRetention.KvTier);
            var pool = TraceReplay.Run(trace, new KvTierRetention(capacities[i]), offerPartialBlocks: false);
            var fifo = StoreTraceReplay.Run(trace, capacities[i], StoreRetention.Fifo);
            var lru = TraceReplay.Run(trace, new LruRetention(capacities[i]), offerPartialBlocks: true);
            points.Add(new CapacityPoint(capacities[i], store.TokenHitRate, pool.TokenHitRate, fifo.TokenHitRate, lru.TokenHitRate));
            if (capacities[i] == chosen)
            {
                atChosen = store;
            }
        }

        var ceiling = TraceReplay.Run(trace, new UnlimitedRetention(), offerPartialBlocks: true).TokenHitRate;
        var result = new Result(points, points.Single(p => p.CapacityBlocks == chosen), atChosen!, ceiling);
        _done[(trace.Source, chosen)] = result;
        return result;
    }

    /// <param name="Points">Hit rates at each capacity, ascending.</param>
    /// <param name="Chosen">The point at the chosen capacity.</param>
    /// <param name="Store">The KvTier store's replay at the chosen capacity (its per-request hits time the requests).</param>
    /// <param name="Ceiling">The unlimited cache's token hit rate.</param>
    public sealed record Result(List<CapacityPoint> Points, CapacityPoint Chosen, TraceReplayResult Store, double Ceiling);
}
