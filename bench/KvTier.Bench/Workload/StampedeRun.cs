using System.Diagnostics;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// <c>fleet-restart-stampede</c>: N engines come up cold at the same moment and send prompts that share one long
/// system prompt (8K tokens by default). With the policy, the first engine takes the in-flight lease on the shared prefix at
/// its owner (the sidecar's BeginPrefill RPC) and prefills it in chunks, storing each chunk's blocks as it goes (as
/// chunked prefill does); the others hear "being computed, ETA t" and the planner decides, per engine, between
/// waiting then fetching and prefilling itself. Prefills take the profile's time in real wall time, so waiters
/// really wait on real leases. Each waiter's fetch is then timed for real, one engine at a time: in a fleet each
/// engine sits on its own node, and 63 fetches sharing this one small machine's sidecar would time the machine.
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
                var (cached, _) = await node.LookupAsync(chain, ct).ConfigureAwait(false);
                if (cached >= sharedBlocks)
                {
                    outcomes[e] = new Outcome(watch.Elapsed.TotalMilliseconds, cached, Prefilled: false, chain);
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
                    var ttft = await PrefillAsync(chain, tokens.Length, watch, renew, ct).ConfigureAwait(false);
                    if (lease.Acquired)
                    {
                        await node.Client.EndPrefillAsync(prefixKey, holder, ct).ConfigureAwait(false);
                    }

                    outcomes[e] = new Outcome(ttft, 0, Prefilled: true, chain);
                    break;
                }

                // Waiting on the holder: look again when it expects to be done (not in a tight loop: 63 waiters
                // polling every few ms would starve the holder's own offload on a small machine).
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
                // The waiter's fetch, timed on its own, then the prefill of its own tail.
                var cached = outcomes[e].CachedBlocks;
                var fetch = await path.FetchAsync(outcomes[e].Chain, cached, ct).ConfigureAwait(false);
                gpu = node.RecomputeMs(n - (fetch.Blocks * b), fetch.Blocks * b);
                (ttft, fetched) = (ttft + node.Combine(fetch.Ms, gpu), fetch.Blocks * b);
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
    private async Task<double> PrefillAsync(KvTier.Core.BlockKey[] chain, int tokens, Stopwatch watch, Func<TimeSpan, Task>? renew, CancellationToken ct)
    {
        var b = node.BlockTokens;
        var ttft = watch.Elapsed.TotalMilliseconds + node.RecomputeMs(tokens, 0);
        var stores = new List<Task>();
        var lastStore = planner.Cost.FetchMs(path.Source, ChunkTokens / b); // about what storing one chunk takes
        for (var done = 0; done < tokens; done += ChunkTokens)
        {
            var chunk = Math.Min(ChunkTokens, tokens - done);
            await Task.Delay(TimeSpan.FromMilliseconds(node.RecomputeMs(chunk, done)), ct).ConfigureAwait(false);
            stores.Add(node.WriteAsync(chain, Math.Min(done / b, chain.Length), Math.Min((done + chunk) / b, chain.Length), ct));
            if (renew is not null)
            {
                var left = tokens - done - chunk;
                await renew(TimeSpan.FromMilliseconds((left > 0 ? node.RecomputeMs(left, done + chunk) : 0) + lastStore)).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(stores).ConfigureAwait(false);
        return ttft;
    }

    private readonly record struct Outcome(double ElapsedMs, int CachedBlocks, bool Prefilled, KvTier.Core.BlockKey[] Chain);
}
