using KvTier.Core;
using KvTier.Policy;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// The trace replayed through a real <see cref="BlockStore"/> (FASTER log, in-process) whose in-memory window holds
/// the given number of blocks: each request is one <see cref="BlockStore.LookupPrefix"/> of its full blocks, a read of
/// each block it hit and a put of each block it missed, as an engine does. This measures the retention the store runs, copies and all (a
/// block copied forward leaves its old record in the log until the head passes it, so copies cost capacity), where
/// <see cref="KvTierRetention"/> is the same rule on an ideal pool.
/// </summary>
internal static class StoreTraceReplay
{
    /// <summary>Payload of each block: small, so a replay moves little memory; the log's capacity is counted in blocks.</summary>
    public const int PayloadBytes = 16 << 10;

    /// <summary>
    /// Log pages of 1 MiB (63 records): the store's budget-sized pages (1/16 to 1/32 of it) would round its room to
    /// whole pages, up to 6 % below the capacity.
    /// </summary>
    private const long PageBytes = 1 << 20;

    private const string Tenant = "trace";

    /// <summary>The smallest capacity a store can be sized for: its minimum window of pages plus the tail page.</summary>
    public static int MinCapacityBlocks { get; } = Room(Sizes(StoreRetention.KvTier).First().Layout);

    public static TraceReplayResult Run(ConversationTrace trace, int capacityBlocks, StoreRetention retention, IProgress<double>? progress = null)
    {
        using var store = new BlockStore(Sized(capacityBlocks, retention));
        var payload = new byte[PayloadBytes];
        new Random(1).NextBytes(payload);
        var readBuffer = new byte[PayloadBytes];
        var keys = new Dictionary<long, BlockKey>();
        var chain = new List<BlockKey>();
        var name = retention == StoreRetention.KvTier ? "store-kvtier" : "store-fifo";
        return TraceReplay.Run(trace, name, capacityBlocks, request =>
        {
            chain.Clear();
            foreach (var id in request.HashIds.AsSpan(0, request.FullBlockCount))
            {
                if (!keys.TryGetValue(id, out var key))
                {
                    key = BenchKeys.Of("trace-replay", 0, checked((int)id));
                    keys.Add(id, key);
                }

                chain.Add(key);
            }

            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chain);
            var hit = store.LookupPrefix(Tenant, span, []);
            for (var i = 0; i < hit; i++)
            {
                // The engine fetches what it hit (a read near the head gives the block its second chance).
                if (store.Get(Tenant, span[i], readBuffer, out _) != BlockStatus.Ok)
                {
                    hit = i; // gone between the lookup and the read: the rest is recomputed
                    break;
                }
            }

            for (var i = hit; i < span.Length; i++)
            {
                var status = store.Put(Tenant, span[i], payload);
                if (status != BlockStatus.Ok)
                {
                    throw new InvalidOperationException($"trace-replay: the store refused a {PayloadBytes}-byte block: {status}");
                }
            }

            return hit;
        }, progress);
    }

    /// <summary>
    /// The largest store whose memory never holds more than <paramref name="capacityBlocks"/> records of
    /// <see cref="PayloadBytes"/>: its window of pages plus the tail page being filled (dead records count: a copy's old
    /// record takes room until the head passes it). So the store is never given more room than the pools it is compared with.
    /// </summary>
    internal static StoreOptions Sized(int capacityBlocks, StoreRetention retention)
    {
        var fits = Sizes(retention).TakeWhile(s => Room(s.Layout) <= capacityBlocks).LastOrDefault();
        return fits.Options ?? throw new ArgumentException(
            $"trace-replay: {capacityBlocks} blocks is too small a capacity for a store: use at least {MinCapacityBlocks}.");
    }

    // Every store size that has a layout, smallest first: its room only grows with memory, as the pages are fixed.
    private static IEnumerable<(StoreOptions Options, StoreLayout Layout)> Sizes(StoreRetention retention)
    {
        var record = StoreLayout.RecordBytes(PayloadBytes);
        for (var memory = record * 64L; ; memory += record * 16)
        {
            var options = new StoreOptions { MaxBlockBytes = PayloadBytes, PageBytes = PageBytes, Preallocate = false, Retention = retention, MemoryBytes = memory };
            if (TryLayout(options) is { } layout)
            {
                yield return (options, layout);
            }
        }
    }

    private static int Room(StoreLayout layout) => (layout.WindowPages + 1) * (int)layout.RecordsPerPage(PayloadBytes);

    private static StoreLayout? TryLayout(StoreOptions options)
    {
        try
        {
            return StoreLayout.For(options);
        }
        catch (ArgumentException)
        {
            return null; // too small for even the minimum window
        }
    }
}
