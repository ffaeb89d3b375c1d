using System.CommandLine;
using KvTier.Bench;
using KvTier.Core;

namespace KvTier.Cli.Commands;

/// <summary><c>kvtier bench workload</c>: fetch vs recompute on named workloads and a production trace, four policies side by side.</summary>
internal static class BenchWorkloadCommand
{
    public static Command Create()
    {
        var json = BenchCommand.JsonFile();
        var outDir = new Option<string?>("--out") { Description = "Write report.md, results.json and PNG plots into DIR." };
        var model = new Option<string>("--model") { Description = $"Model geometry ({ModelPreset.Names}).", DefaultValueFactory = _ => "llama-3.1-8b" };
        var device = new Option<string>("--device") { Description = "Device whose prefill profile gives recompute times (h100-sxm, a100-sxm-80gb; cpu-2core for tiny).", DefaultValueFactory = _ => "h100-sxm" };
        var link = new Option<string>("--link") { Description = "Where hits come from, comma-separated: local (same-node DRAM), 10gbit, 25gbit, 100gbit (a shaped peer link; :rtt=200us to set its RTT).", DefaultValueFactory = _ => "local,25gbit" };
        var workloads = new Option<string>("--workloads") { Description = $"Comma-separated subset of: {string.Join(", ", WorkloadBenchOptions.AllWorkloads)}.", DefaultValueFactory = _ => string.Join(',', WorkloadBenchOptions.AllWorkloads) };
        var memory = new Option<string>("--memory") { Description = "Store budget, preallocated before timing.", DefaultValueFactory = _ => "4GiB" };
        var seed = new Option<int>("--seed") { Description = "Seed of the workloads' text and shapes.", DefaultValueFactory = _ => 1 };
        var full = new Option<bool>("--full") { Description = "Larger workloads (runs longer)." };
        var engines = new Option<int>("--engines") { Description = "Engines cold at once in fleet-restart-stampede.", DefaultValueFactory = _ => 64 };
        var trace = new Option<string?>("--trace") { Description = "Trace to replay (Mooncake conversation format); default bench/traces/conversation_trace.jsonl (or ../shared/traces) found above the working directory." };
        var capacity = new Option<int>("--capacity-blocks") { Description = "trace-replay pool capacity in 512-token trace blocks.", DefaultValueFactory = _ => 10_000 };
        var minFetch = new Option<int>("--min-fetch-tokens") { Description = "Policy: fetch only cached prefixes of at least this many tokens.", DefaultValueFactory = _ => 256 };
        var minSaving = new Option<double>("--min-saving-ms") { Description = "Policy: fetch only when the plan saves at least this many ms.", DefaultValueFactory = _ => 5 };
        var layerwise = new Option<bool>("--layerwise") { Description = "Model an engine that overlaps layer-wise fetch with compute (TTFT ≈ the longer stream)." };
        var timed = new Option<int>("--trace-timed-requests") { Description = "trace-replay requests whose fetches are timed for real (hit rates cover the whole trace).", DefaultValueFactory = _ => 100 };
        var command = new Command("workload", "Fetch vs recompute on named workloads and trace replay: recompute, always_fetch, policy and oracle on the same requests.")
        {
            json, outDir, model, device, link, workloads, memory, seed, full, engines, trace, capacity, timed, minFetch, minSaving, layerwise,
        };
        command.SetAction(async (parse, ct) =>
        {
            WorkloadBenchOptions options = null!;
            BenchCommand.Validate(() => options = new WorkloadBenchOptions
            {
                Model = ModelPreset.Get(parse.GetRequiredValue(model)),
                Device = parse.GetRequiredValue(device),
                Links = List(parse.GetRequiredValue(link)),
                Workloads = List(parse.GetRequiredValue(workloads)),
                MemoryBytes = Inputs.Size("--memory", parse.GetRequiredValue(memory)),
                Seed = parse.GetValue(seed),
                Full = parse.GetValue(full),
                StampedeEngines = parse.GetValue(engines),
                TraceFile = parse.GetValue(trace),
                CapacityBlocks = parse.GetValue(capacity),
                TraceTimedRequests = parse.GetValue(timed),
                Policy = new KvTier.Policy.PolicyOptions { MinFetchTokens = parse.GetValue(minFetch), MinSavingMs = parse.GetValue(minSaving) },
                Layerwise = parse.GetValue(layerwise),
            });
            BenchCommand.Validate(options.Policy.Validate);
            BenchCommand.Validate(options.Validate);
            BenchCommand.Validate(() => KvTier.Policy.PrefillProfile.Get(options.Model.Name, options.Device));
            var result = await Task.Run(() => BenchCommand.WithProgress("bench workload", progress => WorkloadBenchmark.RunAsync(options, progress, ct).GetAwaiter().GetResult()), ct).ConfigureAwait(false);
            var dir = parse.GetValue(outDir);
            BenchCommand.Write(result, WorkloadReport.Markdown(result), parse.GetValue(json), dir);
            if (dir is not null)
            {
                foreach (var png in WorkloadPlots.Write(result, dir))
                {
                    Console.Error.WriteLine($"kvtier: wrote {png}");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
