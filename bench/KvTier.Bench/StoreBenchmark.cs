using System.Diagnostics;
using HdrHistogram;
using KvTier.Core;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// <c>kvtier bench store</c>: put and get throughput of the DRAM tier against memcpy of the same bytes in the same
/// run, and the latency of looking up a long key chain. Everything is preallocated and warmed before timing.
/// </summary>
public static class StoreBenchmark
{
    private const string Tenant = "bench";
    private const string LookupTenant = "bench-lookup";

    /// <summary>Runs the benchmark.</summary>
    public static StoreBenchResult Run(StoreBenchOptions options, IProgress<BenchProgress>? progress = null)
    {
        options.Validate();
        var blockBytes = (int)options.Geometry.BytesPerBlock;
        var storeOptions = new StoreOptions { MemoryBytes = options.MemoryBytes, MaxBlockBytes = blockBytes };
        var layout = StoreLayout.For(storeOptions);
        var resident = (int)(layout.WindowPages * layout.RecordsPerPage(blockBytes));
        var perPass = Math.Clamp(resident / 3, 8, 256); // a third of what memory holds: every block read back is in DRAM

        progress?.Report(new BenchProgress("preallocate", 0));
        var watch = Stopwatch.StartNew();
        using var store = new BlockStore(storeOptions);
        var preallocateSeconds = watch.Elapsed.TotalSeconds;
        var source = new Arena(64, blockBytes, seed: 1);
        var destination = new Arena(perPass, blockBytes, seed: 2);
        var reused = GC.AllocateArray<byte>(blockBytes, pinned: true);
        var fingerprint = options.Geometry.Fingerprint;

        // Warm-up, untimed: turn the log over once so puts run in steady state (pages recycled, not first-touched).
        for (var i = 0; i < resident; i++)
        {
            Check(store.Put(Tenant, BenchKeys.Of("store", -1, i), source.Slot(i), fingerprint), "warm-up put");
            if (i % 64 == 0)
            {
                progress?.Report(new BenchProgress("warm-up", (double)i / resident));
            }
        }

        var memcpy = new List<double>();
        var memcpyReused = new List<double>();
        var puts = new List<double>();
        var gets = new List<double>();
        for (var pass = 0; pass < options.Passes; pass++)
        {
            progress?.Report(new BenchProgress("put / get / memcpy", (double)pass / options.Passes));
            memcpy.Add(Throughput.Measure(perPass, blockBytes, i => source.Slot(i).CopyTo(destination.Slot(i))));
            // Keys are made before timing: hashing them is the engine's work, not the store's.
            var keys = Enumerable.Range(0, perPass).Select(i => BenchKeys.Of("store", pass, i)).ToArray();
            puts.Add(Throughput.Measure(perPass, blockBytes, i => Check(store.Put(Tenant, keys[i], source.Slot(i), fingerprint), "put")));
            memcpyReused.Add(Throughput.Measure(perPass, blockBytes, i => source.Slot(i).CopyTo(reused)));
            gets.Add(Throughput.Measure(perPass, blockBytes, i => Check(store.Get(Tenant, keys[i], reused, out _), "get")));
        }

        progress?.Report(new BenchProgress("lookup", 0));
        var (p50, p99) = MeasureLookups(store, options, progress);
        progress?.Report(new BenchProgress("done", 1));
        return new StoreBenchResult
        {
            PutGbps = Throughput.Median(puts),
            GetGbps = Throughput.Median(gets),
            MemcpyGbps = Throughput.Median(memcpy),
            MemcpyReusedGbps = Throughput.Median(memcpyReused),
            BlockBytes = blockBytes,
            Blocks = (long)perPass * options.Passes,
            Model = options.Model,
            StoreBytes = options.MemoryBytes,
            PageBytes = layout.PageBytes,
            PageWaste = layout.PageWaste(blockBytes),
            PreallocateSeconds = preallocateSeconds,
            LookupChainKeys = options.ChainKeys,
            LookupChainP50Us = p50,
            LookupChainP99Us = p99,
            Passes = options.Passes,
        };
    }

    private static (double P50Us, double P99Us) MeasureLookups(BlockStore store, StoreBenchOptions options, IProgress<BenchProgress>? progress)
    {
        // The chain's blocks are small: what is measured is the index walk, not the bytes.
        var chain = new BlockHasher("0").HashChain(Enumerable.Range(0, options.ChainKeys * 16).ToArray());
        Span<byte> tiny = stackalloc byte[64];
        foreach (var key in chain)
        {
            Check(store.Put(LookupTenant, key, tiny), "chain put");
        }

        var histogram = new LongHistogram(TimeSpan.TicksPerSecond, 3);
        var tiers = new StorageTier[chain.Length];
        // Warm-up, untimed: a second of lookups, so tiered JIT has optimized the lookup path before it is measured.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1))
        {
            store.LookupPrefix(LookupTenant, chain, tiers);
        }

        for (var i = 0; i < options.Lookups; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var found = store.LookupPrefix(LookupTenant, chain, tiers);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (found != chain.Length)
            {
                throw new InvalidOperationException($"lookup found {found} of {chain.Length} chain keys: the store lost blocks it should hold.");
            }

            histogram.RecordValue(elapsed.Ticks);
            progress?.Report(new BenchProgress("lookup", (double)i / options.Lookups));
        }

        static double Us(long ticks) => ticks / (double)TimeSpan.TicksPerMicrosecond;
        return (Us(histogram.GetValueAtPercentile(50)), Us(histogram.GetValueAtPercentile(99)));
    }

    private static void Check(BlockStatus status, string what)
    {
        if (status != BlockStatus.Ok)
        {
            throw new InvalidOperationException($"{what} returned {status}");
        }
    }
}
