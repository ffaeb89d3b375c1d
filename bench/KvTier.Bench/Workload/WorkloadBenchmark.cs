using System.Diagnostics;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// <c>kvtier bench workload</c>: the named workloads over each link, every policy compared on the same requests,
/// plus trace-replay of a production trace. One store (preallocated once) serves every workload; each workload
/// has its own tenant namespace, so nothing one leaves behind is a hit for another.
/// </summary>
public static class WorkloadBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    public static async Task<WorkloadBenchResult> RunAsync(WorkloadBenchOptions options, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        options.Validate();
        var watch = Stopwatch.StartNew();
        var profile = PrefillProfile.Get(options.Model.Name, options.Device);
        progress?.Report(new BenchProgress("tokenize corpus", 0));
        var corpus = TextCorpus.Load();
        progress?.Report(new BenchProgress("preallocate store", 0));
        await using var node = await WorkloadNode.StartAsync(options.Model.Geometry, profile, options.MemoryBytes, options.Layerwise, ct).ConfigureAwait(false);
        var results = new List<WorkloadResult>();
        var sweeps = new RetentionSweep();
        foreach (var linkText in options.Links)
        {
            var link = LinkSpec.Parse(linkText);
            await using var path = await FetchPaths.OpenAsync(link, node, ct).ConfigureAwait(false);
            progress?.Report(new BenchProgress($"warm-up ({link.Text})", 0));
            await WarmUpAsync(node, path, link, ct).ConfigureAwait(false);
            foreach (var name in options.Workloads)
            {
                // A fresh planner per workload: each starts from the link's prior and learns from its own fetches.
                var planner = NewPlanner(node, path, link, options.Policy);
                var result = name switch
                {
                    "fleet-restart-stampede" => await new StampedeRun(node, path, planner)
                        .RunAsync(corpus, options.StampedeEngines, options.StampedeSharedTokens, options.Seed, progress, ct).ConfigureAwait(false),
                    "trace-replay" => await new TraceReplayRun(node, path, planner, sweeps)
                        .RunAsync(options, progress, ct).ConfigureAwait(false),
                    _ => await new WorkloadRunner(node, path, planner)
                        .RunAsync(name, Tenanted(Workloads.Create(name, corpus, options.Seed, options.Full), link), progress, ct).ConfigureAwait(false),
                };
                results.Add(result);
            }
        }

        return new WorkloadBenchResult
        {
            Model = options.Model.Name,
            Device = options.Device,
            RecomputeSource = profile.Source,
            Seed = options.Seed,
            Workloads = results,
            Layerwise = options.Layerwise,
            MinFetchTokens = options.Policy.MinFetchTokens,
            MinSavingMs = options.Policy.MinSavingMs,
            Seconds = watch.Elapsed.TotalSeconds,
        };
    }

    // Untimed: 40 rounds and 2 s of lookups, fetches and lease calls, so tiered JIT has promoted the hot paths (methods are promoted
    // after 30 calls) before anything counts.
    private static async Task WarmUpAsync(WorkloadNode node, IFetchPath path, LinkSpec link, CancellationToken ct)
    {
        var keys = Enumerable.Range(0, 128).Select(i => BenchKeys.Of($"warm-up-{link.Text}", 0, i)).ToArray();
        await node.WriteAsync(keys, 0, keys.Length, ct).ConfigureAwait(false);
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < 40 || watch.Elapsed < TimeSpan.FromSeconds(2); round++)
        {
            await node.LookupAsync(keys, ct).ConfigureAwait(false);
            await path.FetchAsync(keys, keys.Length, ct).ConfigureAwait(false);
            // The stampede's lease calls too, so its first holder does not pay their JIT.
            await node.Client.BeginPrefillAsync(keys[0], "warm-up", 1, ct).ConfigureAwait(false);
            await node.Client.EndPrefillAsync(keys[0], "warm-up", ct).ConfigureAwait(false);
        }
    }

    private static Planner NewPlanner(WorkloadNode node, IFetchPath path, LinkSpec link, PolicyOptions policy)
    {
        var links = new LinkCostModel(TimeProvider.System);
        if (!link.IsLocal)
        {
            links.SetPrior(path.Source, link.ToPrior());
        }

        return new Planner(new CostModel(node.Geometry, new PrefillCostModel(node.Profile), links), policy);
    }

    // Each link's run gets its own namespaces: the second link must not hit what the first one wrote.
    private static IReadOnlyList<WorkloadRequest> Tenanted(IReadOnlyList<WorkloadRequest> requests, LinkSpec link) =>
        requests.Select(r => r with { Tenant = $"{r.Tenant}-{link.Text}" }).ToArray();
}
