using System.Diagnostics;
using KvTier.Core;
using KvTier.Policy;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Bench;

/// <summary>
/// A same-node DRAM hit, served the way the sidecar serves an engine: an Onload RPC, which verifies each block in
/// the store and scatters it into the engine's pool. A prefix longer than the pool cycles its slots.
/// </summary>
internal sealed class LocalFetchPath(WorkloadNode node) : IFetchPath
{
    public FetchSource Source => FetchSource.LocalDram;

    public string Name => "local";

    public async Task<FetchOutcome> FetchAsync(BlockKey[] keys, int from, int to, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var arrived = 0;
        for (var start = from; start < to && arrived == start - from; start += WorkloadNode.PoolBlocks)
        {
            var blocks = Enumerable.Range(start, Math.Min(WorkloadNode.PoolBlocks, to - start)).Select(i => (keys[i], i % WorkloadNode.PoolBlocks)).ToArray();
            var results = await node.Client.OnloadAsync(node.PoolId, blocks, ct).ConfigureAwait(false);
            arrived += FetchOutcomes.LeadingRun(results, r => r == Rpc.BlockResult.Ok);
        }

        return new FetchOutcome(watch.Elapsed.TotalMilliseconds, arrived);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
