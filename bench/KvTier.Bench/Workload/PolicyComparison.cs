using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// The four policies side by side on one request at a time: <c>recompute</c> (never fetch), <c>always_fetch</c>
/// (the whole cached prefix), <c>policy</c> (KvTier's planner, which learns link costs from the fetches it sees) and
/// <c>oracle</c> (the best of those choices for that request in hindsight, from the measured times). Fetches are
/// real and timed; when the planner picks a shorter split, that split is fetched and timed as well.
/// </summary>
internal sealed class PolicyComparison(WorkloadNode node, IFetchPath path, Planner planner)
{
    public static readonly string[] PolicyNames = ["recompute", "always_fetch", "policy", "oracle"];

    public Dictionary<string, PolicyTally> Tallies { get; } = PolicyNames.ToDictionary(p => p, _ => new PolicyTally());

    /// <summary>
    /// Plans and times one request of <paramref name="promptTokens"/> tokens whose first <paramref name="cachedBlocks"/>
    /// of <paramref name="chainBlocks"/> full blocks are cached; <paramref name="fetch"/> fetches the first k for real
    /// and returns the milliseconds. The policies that ask the sidecar pay <paramref name="lookupMs"/> (the measured
    /// Lookup RPC); recompute never asks. Returns the blocks the policy fetched.
    /// </summary>
    public async Task<int> AddAsync(int promptTokens, int chainBlocks, int cachedBlocks, double lookupMs, Func<int, Task<FetchOutcome>> fetch)
    {
        var b = node.BlockTokens;
        var all = cachedBlocks > 0 ? await fetch(cachedBlocks).ConfigureAwait(false) : default;
        var plan = planner.Choose(new PlanRequest(chainBlocks, cachedBlocks > 0 ? [new CachedRun(path.Source, cachedBlocks)] : [],
            LayerwiseOverlap: node.Layerwise, TailTokens: promptTokens - (chainBlocks * b)));
        var k = plan.FetchBlocks;
        var part = k == cachedBlocks ? all : k == 0 ? default : await fetch(k).ConfigureAwait(false);
        if (all.Blocks > 0)
        {
            // The planner learns from what it just saw, as the sidecar does from engines' ReportTiming.
            planner.Cost.ObserveFetch(path.Source, all.Blocks, TimeSpan.FromMilliseconds(all.Ms));
        }

        // A block that went missing between lookup and fetch ends the fetched prefix: the engine recomputes the rest.
        var written = (chainBlocks - cachedBlocks) * b;
        var recompute = node.RecomputeMs(promptTokens, 0);
        var allGpu = node.RecomputeMs(promptTokens - (all.Blocks * b), all.Blocks * b);
        var partGpu = node.RecomputeMs(promptTokens - (part.Blocks * b), part.Blocks * b);
        var fetchAll = lookupMs + node.Combine(cachedBlocks > 0 ? all.Ms : 0, allGpu);
        var chosen = lookupMs + node.Combine(k > 0 ? part.Ms : 0, partGpu);
        Tallies["recompute"].Add(recompute, promptTokens, 0, 0, recompute);
        Tallies["always_fetch"].Add(fetchAll, promptTokens, all.Blocks * b, written, allGpu);
        Tallies["policy"].Add(chosen, promptTokens, part.Blocks * b, written, partGpu);
        var best = Math.Min(recompute, Math.Min(fetchAll, chosen));
        var (bestTokens, bestGpu) = best == recompute ? (0, recompute) : best == fetchAll ? (all.Blocks * b, allGpu) : (part.Blocks * b, partGpu);
        Tallies["oracle"].Add(best, promptTokens, bestTokens, written, bestGpu);
        return part.Blocks;
    }

    /// <summary>The per-policy results plus the ratios the targets read.</summary>
    public WorkloadResult ToResult(string name, int requests, double promptTokensMean) => Summarize(name, path.Name, requests, promptTokensMean, Tallies);

    /// <summary>A workload result from per-policy tallies.</summary>
    public static WorkloadResult Summarize(string name, string link, int requests, double promptTokensMean, Dictionary<string, PolicyTally> tallies)
    {
        var results = tallies.ToDictionary(kv => kv.Key, kv => kv.Value.ToResult());
        return new WorkloadResult
        {
            Name = name,
            Link = link,
            Requests = requests,
            PromptTokensMean = promptTokensMean,
            Policies = results,
            PolicyVsOracle = results["policy"].TtftMeanMs / results["oracle"].TtftMeanMs,
            PolicyVsRecompute = results["policy"].TtftMeanMs / results["recompute"].TtftMeanMs,
            TtftSamples = tallies.ToDictionary(kv => kv.Key, kv => kv.Value.TtftMs),
        };
    }
}
