using System.Diagnostics;
using KvTier.Core;
using KvTier.EngineSim;
using KvTier.Server.Engine;
using KvTier.Store;
using KvTier.Transfer;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Bench;

/// <summary>
/// <c>kvtier bench transfer</c>: the node-local path an engine pays for, pool → store and back, against a plain
/// copy of the same pool bytes in the same run, plus the reference prefill's speed.
/// </summary>
public static class TransferBenchmark
{
    private const string Tenant = "bench";

    /// <summary>Runs the benchmark.</summary>
    public static TransferBenchResult Run(TransferBenchOptions options, IProgress<BenchProgress>? progress = null)
    {
        options.Validate();
        var spec = new KvPoolSpec(options.Geometry, options.Layout, options.PoolBlocks);
        var blockBytes = spec.BlockBytes;
        var path = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"kvtier-bench-pool-{Environment.ProcessId}");
        progress?.Report(new BenchProgress("setup", 0));
        SharedMemoryPool.Create(path, spec.PoolBytes);
        try
        {
            var storeBytes = options.StoreBytes > 0 ? options.StoreBytes : Math.Max(1L << 30, 4 * spec.PoolBytes);
            using var store = new BlockStore(new StoreOptions { MemoryBytes = storeBytes, MaxBlockBytes = blockBytes });
            using var staging = new StagingArena(options.StagingBytes);
            using var pools = new PoolRegistry(NullLogger.Instance);
            var pool = pools.Add(spec, new SharedMemoryPool(path, spec.PoolBytes));
            unsafe
            {
                var bytes = new Span<byte>(pool.Memory.Pointer, checked((int)spec.PoolBytes));
                new Random(1).NextBytes(bytes);
            }

            var destination = new Arena(options.PoolBlocks, (int)blockBytes, seed: 2);
            var pipeline = new TransferPipeline(store, staging);
            var slots = Enumerable.Range(0, options.PoolBlocks).ToArray();

            // Warm-up, untimed: at least a second of both directions, so tiered JIT has promoted the hot loops.
            var warm = Stopwatch.StartNew();
            for (var round = 0; round < 2 || warm.Elapsed < options.WarmUp; round++)
            {
                Move(pipeline, pool, slots, -1 - round, offload: true);
                Move(pipeline, pool, slots, -1 - round, offload: false);
                progress?.Report(new BenchProgress("warm-up", Math.Min(1, warm.Elapsed / options.WarmUp)));
            }

            progress?.Report(new BenchProgress("offload / onload / memcpy", 0));
            List<double> offload = [], onload = [], memcpy = [];
            for (var pass = 0; pass < options.Passes; pass++)
            {
                memcpy.Add(MemcpyPool(pool, destination));
                offload.Add(Move(pipeline, pool, slots, pass, offload: true));
                onload.Add(Move(pipeline, pool, slots.Reverse().ToArray(), pass, offload: false));
                progress?.Report(new BenchProgress("offload / onload / memcpy", (pass + 1.0) / options.Passes));
            }

            progress?.Report(new BenchProgress("prefill", 0));
            var model = new ReferenceModel(ModelPreset.Get(options.PrefillPreset));
            var tokensPerSecond = model.MeasureTokensPerSecond(options.PrefillTokens, options.WarmUp);
            progress?.Report(new BenchProgress("prefill", 1));
            return new TransferBenchResult
            {
                OffloadGbps = Throughput.Median(offload),
                OnloadGbps = Throughput.Median(onload),
                MemcpyGbps = Throughput.Median(memcpy),
                PrefillTokensPerSecond = tokensPerSecond,
                PrefillPreset = options.PrefillPreset,
                PrefillTokens = options.PrefillTokens,
                Model = options.Model,
                Layout = options.Layout.ToString(),
                Accelerator = "cpu",
                BlockBytes = blockBytes,
                Blocks = (long)options.PoolBlocks * options.Passes,
                Passes = options.Passes,
            };
        }
        finally
        {
            File.Delete(path);
        }
    }

    // One batch of every slot through the pipeline; GB/s of block bytes.
    private static double Move(TransferPipeline pipeline, RegisteredPool pool, int[] slots, int pass, bool offload)
    {
        var blocks = slots.Select(s => (BenchKeys.Of("transfer", pass, s), s)).ToArray();
        var watch = Stopwatch.StartNew();
        var results = offload
            ? pipeline.OffloadAsync(Tenant, pool, blocks, null, CancellationToken.None).GetAwaiter().GetResult()
            : pipeline.OnloadAsync(Tenant, pool, blocks, CancellationToken.None).GetAwaiter().GetResult();
        var elapsed = watch.Elapsed;
        if (results.Any(r => r != BlockStatus.Ok))
        {
            throw new InvalidOperationException($"{(offload ? "offload" : "onload")} pass {pass}: {results.Count(r => r != BlockStatus.Ok)} blocks failed");
        }

        return Throughput.GigabytesPerSecond(slots.Length * pool.Spec.BlockBytes, elapsed);
    }

    // With as many threads as the pipeline has workers (one per core), so the ratio compares like with like.
    private static unsafe double MemcpyPool(RegisteredPool pool, Arena destination)
    {
        var blockBytes = (int)pool.Spec.BlockBytes;
        var source = (nint)pool.Memory.Pointer;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, destination.Slots, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => new ReadOnlySpan<byte>((byte*)source + ((long)i * blockBytes), blockBytes).CopyTo(destination.Slot(i)));
        return Throughput.GigabytesPerSecond((long)destination.Slots * blockBytes, watch.Elapsed);
    }
}
