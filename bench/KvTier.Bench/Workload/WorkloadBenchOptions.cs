using KvTier.Core;

namespace KvTier.Bench;

/// <summary>Options of <c>kvtier bench workload</c>; defaults are the standard set <c>make bench</c> runs.</summary>
public sealed class WorkloadBenchOptions
{
    /// <summary>Model geometry (default llama-3.1-8b: 2 MiB blocks of 16 tokens).</summary>
    public ModelPreset Model { get; init; } = ModelPreset.Get("llama-3.1-8b");

    /// <summary>Device whose prefill profile gives recompute times (default h100-sxm).</summary>
    public string Device { get; init; } = "h100-sxm";

    /// <summary>Links to run the workloads over: <c>local</c> (same-node DRAM) and/or shaped peer links.</summary>
    public IReadOnlyList<string> Links { get; init; } = ["local"];

    /// <summary>The planner's thresholds (defaults: fetch only prefixes of ≥ 256 tokens that save ≥ 5 ms).</summary>
    public KvTier.Policy.PolicyOptions Policy { get; init; } = new();

    /// <summary>
    /// The engine overlaps loading layer i+1's KV with computing layer i (vLLM with LMCache's layer-wise mode): a
    /// fetch-then-compute TTFT is about the longer of the two streams, not their sum. Default false: the measured
    /// fetch and the profile's prefill add up.
    /// </summary>
    public bool Layerwise { get; init; }

    /// <summary>Every workload name, in run order.</summary>
    public static IReadOnlyList<string> AllWorkloads => KvTier.Bench.Workloads.Names;

    /// <summary>Workloads to run (default: all).</summary>
    public IReadOnlyList<string> Workloads { get; init; } = KvTier.Bench.Workloads.Names;

    /// <summary>Store budget (default 4 GiB), preallocated before anything is timed.</summary>
    public long MemoryBytes { get; init; } = 4L << 30;

    /// <summary>Seed of every workload's text and shape.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Larger workloads (longer run).</summary>
    public bool Full { get; init; }

    /// <summary>Engines cold at once in fleet-restart-stampede.</summary>
    public int StampedeEngines { get; init; } = 64;

    /// <summary>Tokens of the system prompt the stampeding engines share (default 8192).</summary>
    public int StampedeSharedTokens { get; init; } = 8192;

    /// <summary>The trace replayed by trace-replay (Mooncake conversation format).</summary>
    public string? TraceFile { get; init; }

    /// <summary>trace-replay's pool capacity in 512-token trace blocks.</summary>
    public int CapacityBlocks { get; init; } = 10_000;

    /// <summary>trace-replay requests whose fetches are timed for real (the hit rates cover the whole trace).</summary>
    public int TraceTimedRequests { get; init; } = 200;

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad value and the fix.</summary>
    public void Validate()
    {
        foreach (var w in Workloads)
        {
            if (!KvTier.Bench.Workloads.Names.Contains(w))
            {
                throw new ArgumentException($"--workloads: '{w}' is not a workload: use {string.Join(", ", KvTier.Bench.Workloads.Names)}.");
            }
        }

        if (MemoryBytes < (256L << 20))
        {
            throw new ArgumentException($"--memory {MemoryBytes} bytes is too small for the workloads: use at least 256MiB (4GiB by default).");
        }

        if (StampedeEngines is < 2 or > 1024)
        {
            throw new ArgumentException($"--engines {StampedeEngines} is out of range: use 2 to 1024.");
        }

        if (StampedeSharedTokens < Model.Geometry.BlockTokens)
        {
            throw new ArgumentException($"StampedeSharedTokens {StampedeSharedTokens} is shorter than one block ({Model.Geometry.BlockTokens} tokens).");
        }

        if (CapacityBlocks < StoreTraceReplay.MinCapacityBlocks)
        {
            throw new ArgumentException(
                $"--capacity-blocks {CapacityBlocks} is too small: trace-replay's stores need room for at least {StoreTraceReplay.MinCapacityBlocks} blocks; give that or more.");
        }

        if (Links.Count == 0)
        {
            throw new ArgumentException("--link names no link: use local, 10gbit, 25gbit or 100gbit (comma-separated for several).");
        }

        // Up front, not when the workloads reach that link after minutes of runs.
        foreach (var link in Links)
        {
            _ = LinkSpec.Parse(link);
        }

        if (TraceFile is not null && Workloads.Contains("trace-replay") && !File.Exists(TraceFile))
        {
            throw new ArgumentException(
                $"--trace '{TraceFile}' does not exist: give a file in the Mooncake trace format (one JSON object per line with timestamp, input_length, "
                + "output_length and hash_ids), or leave --trace out for the bundled conversation trace.");
        }
    }
}
