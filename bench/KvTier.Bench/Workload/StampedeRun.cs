using System.Diagnostics;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// <c>fleet-restart-stampede</c>: N engines come up cold at the same moment and send prompts that share one long
/// system prompt (8K tokens by default). With the policy, the first engine takes the in-flight lease on the shared prefix at
/// its owner (the sidecar's BeginPrefill RPC) and prefills it in chunks, storing each chunk's blocks as it goes (as
/// chunked prefill does); the others hear "being computed, ETA t" and the planner decides, per engine, between
/// waiting then fetching and prefilling itself. Prefills take the profile's time in real wall time, so waiters
/// really wait on real leases. A waiter streams each chunk the holder has stored while it waits and fetches the last
/// once the holder is done (as an engine can onload a partial prefix). Each waiter's fetches are then timed for real,
/// one engine at a time, on the holder's timeline: in a fleet each engine sits on its own node, and 63 fetches
/// sharing this one small machine's sidecar would time the machine.
/// Without leases (recompute, always_fetch) every cold engine prefills the prefix.
/// </summary>
internal sealed class StampedeRun(WorkloadNode node, IFetchPath path, Planner planner)
{
    private const int ChunkTokens = 2048;

    public async Task<WorkloadResult> RunAsync(TextCorpus corpus, int engines, int sharedTokens, int seed, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var random = new Random(seed);
        var tenant = $"stampede-{path.Name}";
        var shared = corpus.Passage(random, sharedTokens);
        var prompts = Enumerable.Range(0, engines).Select(_ => (int[])[.. shared, .. corpus.Passage(random, random.Next(40, 200))]).ToArray();
        var sharedBlocks = shared.Length / node.BlockTokens;
        var prefixKey = node.Chain(tenant, shared)[sharedBlocks - 1];
        var prefillRuns = 0;
        var decided = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcomes = new Outcome[engines];
        var timeline = new List<(double ReadyMs, int Blocks)>(); // when each chunk of the lease holder's prefix was stored

        async Task Engine(int e)
        {
            await start.Task.ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            var tokens = prompts[e];
            var chain = node.Chain(tenant, tokens);
            var b = node.BlockTokens;
            var holder = $"engine-{e}";
            var eta = TimeSpan.FromMilliseconds(node.RecomputeMs(tokens.Length, 0)); // what this engine would run as holder
            while (true)
            {
                var (cached, lookupMs) = await node.LookupAsync(chain, ct).ConfigureAwait(false);
                if (cached >= sharedBlocks)
                {
                    outcomes[e] = new Outcome(lookupMs, cached, Prefilled: false, chain);
                    break;
                }

                // The owner node keeps the lease (BeginPrefill): the first asker computes, the others hear who and when.
                var lease = await node.Client.BeginPrefillAsync(prefixKey, holder, (uint)eta.TotalMilliseconds, ct).ConfigureAwait(false);
                var proceed = lease.Acquired;
                if (!proceed)
                {
                    var now = new PlanRequest(chain.Length, [], LayerwiseOverlap: node.Layerwise, tokens.Length - (chain.Length * b));
                    var ready = now with { Cached = [new CachedRun(path.Source, sharedBlocks)] };
                    var found = new LeaseResult(LeaseStatus.BeingComputed, lease.Holder, TimeSpan.FromMilliseconds(lease.EtaRemainingMs), lease.EtaOverdue, TimeSpan.Zero,
                        TimeSpan.FromMilliseconds(lease.OverdueMs));
                    proceed = !planner.DecideWait(now, ready, found).Wait;
                }

                if (proceed)
                {
                    Interlocked.Increment(ref prefillRuns);
                    // The holder renews its lease with a fresh ETA after every chunk: a late holder is not taken for a
                    // dead one (only a holder that stops renewing lets its lease lapse).
                    Func<TimeSpan, Task>? renew = lease.Acquired
                        ? remaining => node.Client.BeginPrefillAsync(prefixKey, holder, (uint)Math.Ceiling(remaining.TotalMilliseconds), ct)
                        : null;
                    var ttft = await PrefillAsync(chain, tokens.Length, watch, renew, lease.Acquired ? timeline : null, ct).ConfigureAwait(false);
                    if (lease.Acquired)
                    {
                        await node.Client.EndPrefillAsync(prefixKey, holder, ct).ConfigureAwait(false);
                    }

                    outcomes[e] = new Outcome(ttft, 0, Prefilled: true, chain);
                    break;
                }

                // Waiting on the holder: look again when it expects to be done (not in a tight loop: 63 waiters
                // polling every few ms would starve the holder's own offload on a small machine). Not AwaitPrefill's
                // long poll: here 63 waiters woken at one instant by the release queue on two cores (mean TTFT 453-487
                // ms against 441-465 ms waking at the ETA, two runs each); in a fleet each engine has its own.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(5, lease.EtaRemainingMs + 2)), ct).ConfigureAwait(false);
            }

            progress?.Report(new BenchProgress("fleet-restart-stampede: leases", (double)Interlocked.Increment(ref decided) / engines));
        }

        var tasks = Enumerable.Range(0, engines).Select(e => Task.Run(() => Engine(e), ct)).ToArray();
        start.SetResult();
        await Task.WhenAll(tasks).ConfigureAwait(false);

        var tallies = PolicyComparison.PolicyNames.ToDictionary(p => p, _ => new PolicyTally());
        var b = node.BlockTokens;
        for (var e = 0; e < engines; e++)
        {
            var n = prompts[e].Length;
            var blocks = n / b;
            var recompute = node.RecomputeMs(n, 0);
            var (ttft, fetched, gpu) = (outcomes[e].ElapsedMs, 0, recompute);
            if (!outcomes[e].Prefilled)
            {
                var (ready, blocksIn) = await StreamAsync(outcomes[e], timeline, ct).ConfigureAwait(false);
                gpu = node.RecomputeMs(n - (blocksIn * b), blocksIn * b);
                (ttft, fetched) = (ready.StreamedMs + node.Combine(ready.LastMs, gpu), blocksIn * b);
            }

            tallies["recompute"].Add(recompute, n, 0, 0, recompute);
            tallies["always_fetch"].Add(recompute, n, 0, blocks * b, recompute); // all cold at once: nothing to fetch, all prefill
            tallies["policy"].Add(ttft, n, fetched, (blocks * b) - fetched, gpu);
            var best = Math.Min(recompute, ttft);
            tallies["oracle"].Add(best, n, best == recompute ? 0 : fetched, (blocks * b) - fetched, best == recompute ? recompute : gpu);
            progress?.Report(new BenchProgress("fleet-restart-stampede: fetches", (e + 1.0) / engines));
        }

        return PolicyComparison.Summarize("fleet-restart-stampede", path.Name, engines, prompts.Average(p => p.Length), tallies) with
        {
            Engines = engines,
            PrefillRunsOfSharedPrefix = prefillRuns,
        };
    }

    // A chunked prefill: each chunk takes the profile's time, then its full blocks are stored while the next chunk
    // computes. Returns the time to first token: when the engine decided to prefill plus the profile's prefill time
    // (timer lateness on this busy machine is not the GPU's); the stores are complete when it returns.
    private async Task<double> PrefillAsync(KvTier.Core.BlockKey[] chain, int tokens, Stopwatch watch, Func<TimeSpan, Task>? renew,
        List<(double ReadyMs, int Blocks)>? timeline, CancellationToken ct)
    {
        var b = node.BlockTokens;
        var decided = watch.Elapsed.TotalMilliseconds;
        var ttft = decided + node.RecomputeMs(tokens, 0);
        var stores = new List<Task>();
        var lastStore = planner.Cost.FetchMs(path.Source, ChunkTokens / b); // about what storing one chunk takes
        var computed = decided;
        for (var done = 0; done < tokens; done += ChunkTokens)
        {
            var chunk = Math.Min(ChunkTokens, tokens - done);
            var chunkMs = node.RecomputeMs(chunk, done);
            await Task.Delay(TimeSpan.FromMilliseconds(chunkMs), ct).ConfigureAwait(false);
            computed += chunkMs;
            stores.Add(StoreAsync(computed, Math.Min(done / b, chain.Length), Math.Min((done + chunk) / b, chain.Length)));
            if (renew is not null)
            {
                var left = tokens - done - chunk;
                await renew(TimeSpan.FromMilliseconds((left > 0 ? node.RecomputeMs(left, done + chunk) : 0) + lastStore)).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(stores).ConfigureAwait(false);
        return ttft;

        // A chunk is ready for waiters once the profile says it is computed and its real store has finished.
        async Task StoreAsync(double computedMs, int from, int to)
        {
            var store = Stopwatch.StartNew();
            await node.WriteAsync(chain, from, to, ct).ConfigureAwait(false);
            if (timeline is not null)
            {
                lock (timeline)
                {
                    timeline.Add((computedMs + store.Elapsed.TotalMilliseconds, to));
                }
            }
        }
    }

    // A waiter's fetches, timed for real on their own, on the lease holder's timeline: the waiter fetches each chunk
    // the holder stored once it is ready (one fetch at a time), the last one after the holder is done. The holder's
    // timeline is the profile's compute time plus each chunk's real store time, as the holder's own TTFT counts the
    // profile and not this busy machine's timer lateness; the waiter adds one real lookup to see the prefix complete.
    // StreamedMs: when the last chunk's fetch could start; LastMs: how long it took.
    private async Task<((double StreamedMs, double LastMs) Ready, int Blocks)> StreamAsync(Outcome waiter,
        IReadOnlyList<(double ReadyMs, int Blocks)> timeline, CancellationToken ct)
    {
        var chunks = timeline.OrderBy(c => c.Blocks).Where(c => c.Blocks <= waiter.CachedBlocks).ToList();
        if (chunks.Count == 0 || chunks[^1].Blocks < waiter.CachedBlocks)
        {
            chunks.Add((chunks.Count > 0 ? chunks[^1].ReadyMs : 0, waiter.CachedBlocks)); // not from the holder's run
        }

        var free = 0.0;
        var fetched = 0;
        for (var k = 0; k < chunks.Count; k++)
        {
            var (readyMs, blocks) = chunks[k];
            var start = Math.Max(free, readyMs + (k == chunks.Count - 1 ? waiter.ElapsedMs : 0));
            var chunk = await path.FetchAsync(waiter.Chain, fetched, blocks, ct).ConfigureAwait(false);
            fetched += chunk.Blocks;
            if (k == chunks.Count - 1 || fetched < blocks)
            {
                // The last chunk (or a block gone missing: the rest is recomputed).
                return ((start, chunk.Ms), fetched);
            }

            free = start + chunk.Ms;
        }

        return ((free, 0), fetched);
    }

    // ElapsedMs: a prefilling engine's TTFT; a waiter's last lookup (the round trip that saw the prefix complete).
    private readonly record struct Outcome(double ElapsedMs, int CachedBlocks, bool Prefilled, KvTier.Core.BlockKey[] Chain);
}
