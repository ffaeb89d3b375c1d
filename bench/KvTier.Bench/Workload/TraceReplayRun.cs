using KvTier.Core;
using KvTier.Policy;
using KvTier.Store;

namespace KvTier.Bench;

/// <summary>
/// <c>trace-replay</c>: the Mooncake conversation trace (one id per 512-token prefix block). Token hit rates cover
/// the whole trace, replayed in timestamp order at each capacity through: a real store with KvTier's retention (what
/// runs), the same rule on an ideal pool, a real store with FIFO retention, plain LRU, and an unlimited cache (the
/// ceiling). Then requests from the middle of the trace are replayed for timing: each one's cached prefix (what the
/// store with KvTier's retention held at the chosen capacity) is fetched for real at the model's geometry, and the
/// four policies are compared on them.
/// </summary>
internal sealed class TraceReplayRun(WorkloadNode node, IFetchPath path, Planner planner, RetentionSweep sweeps)
{
    private const int TraceBlockTokens = ConversationTrace.BlockTokens;
    private const int FillerBlocks = 128;

    public async Task<WorkloadResult> RunAsync(WorkloadBenchOptions options, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var file = options.TraceFile ?? FindDefaultTrace();
        var trace = ConversationTrace.Load(file);
        var sweep = sweeps.Get(trace, options.CapacityBlocks, progress, ct);
        var chosen = sweep.Store;

        // Timed part: a fixed set of real blocks stands in for the trace's content (the trace carries no tokens);
        // each request fetches as many of them, in a cycle, as its cached prefix holds at the model's geometry.
        var filler = Enumerable.Range(0, FillerBlocks).Select(i => BenchKeys.Of($"trace-{path.Name}", 0, i)).ToArray();
        await node.WriteAsync(filler, 0, filler.Length, ct).ConfigureAwait(false);
        var perTraceBlock = TraceBlockTokens / node.BlockTokens;
        var comparison = new PolicyComparison(node, path, planner);
        // The timed requests come from the middle of the trace: its first minutes are a cold cache.
        var timed = Math.Min(options.TraceTimedRequests, trace.Requests.Count);
        var first = (trace.Requests.Count - timed) / 2;
        long promptTokens = 0;
        for (var r = first; r < first + timed; r++)
        {
            ct.ThrowIfCancellationRequested();
            var request = trace.Requests[r];
            var chainBlocks = request.InputLength / node.BlockTokens;
            var cachedBlocks = Math.Min(chosen.HitBlocksPerRequest[r] * perTraceBlock, chainBlocks);
            var keys = new BlockKey[cachedBlocks];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = filler[i % filler.Length];
            }

            var (_, lookupMs) = await node.LookupAsync(keys, ct).ConfigureAwait(false); // the engine asks as it would
            await comparison.AddAsync(request.InputLength, chainBlocks, cachedBlocks, lookupMs, count => path.FetchAsync(keys, count, ct)).ConfigureAwait(false);
            promptTokens += request.InputLength;
            progress?.Report(new BenchProgress("trace-replay: timed requests", (double)(r + 1 - first) / timed));
        }

        return comparison.ToResult("trace-replay", timed, timed == 0 ? 0 : (double)promptTokens / timed) with
        {
            CapacityBlocks = options.CapacityBlocks,
            TokenHitRate = chosen.TokenHitRate,
            PoolTokenHitRate = sweep.Chosen.PoolTokenHitRate,
            FifoTokenHitRate = sweep.Chosen.FifoTokenHitRate,
            LruTokenHitRate = sweep.Chosen.LruTokenHitRate,
            CeilingTokenHitRate = sweep.Ceiling,
            CapacitySweep = sweep.Points,
        };
    }

    /// <summary>The repository's copy of the trace (or ../shared's) above the working directory or the executable.</summary>
    private static string FindDefaultTrace() =>
        ConversationTrace.FindDefault(Environment.CurrentDirectory, AppContext.BaseDirectory)
        ?? throw new ArgumentException($"trace-replay: no --trace given and none of {string.Join(", ", ConversationTrace.DefaultLocations)} above the working directory: pass --trace FILE.");
}
