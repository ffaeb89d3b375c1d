using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// Runs one workload's requests in order against a node and compares the four policies on the very same requests:
/// <c>recompute</c> (never fetch), <c>always_fetch</c> (fetch the whole cached prefix), <c>policy</c> (KvTier's
/// planner) and <c>oracle</c> (best in hindsight), through <see cref="PolicyComparison"/>. Each request's cached
/// prefix is what the real store holds after the requests before it wrote their blocks.
/// </summary>
internal sealed class WorkloadRunner(WorkloadNode node, IFetchPath path, Planner planner)
{
    public async Task<WorkloadResult> RunAsync(string name, IReadOnlyList<WorkloadRequest> requests, IProgress<BenchProgress>? progress, CancellationToken ct)
    {
        var comparison = new PolicyComparison(node, path, planner);
        var byTurn = new SortedDictionary<int, (long Hit, long Total)>();
        long victimHit = 0, victimTotal = 0, bytesWritten = 0, bytesRead = 0;
        var b = node.BlockTokens;
        for (var r = 0; r < requests.Count; r++)
        {
            ct.ThrowIfCancellationRequested();
            var request = requests[r];
            var chain = node.Chain(request.Tenant, request.Tokens);
            var (cached, lookupMs) = await node.LookupAsync(chain, ct).ConfigureAwait(false);
            var k = await comparison.AddAsync(request.Tokens.Length, chain.Length, cached, lookupMs, count => path.FetchAsync(chain, count, ct)).ConfigureAwait(false);
            await node.WriteAsync(chain, cached, chain.Length, ct).ConfigureAwait(false);
            bytesWritten += (long)(chain.Length - cached) * node.BlockBytes;
            bytesRead += (long)k * node.BlockBytes;
            if (request.Turn >= 0)
            {
                byTurn.TryGetValue(request.Turn, out var t);
                byTurn[request.Turn] = (t.Hit + (cached * b), t.Total + request.Tokens.Length);
            }

            if (request.Victim)
            {
                victimHit += cached * b;
                victimTotal += request.Tokens.Length;
            }

            progress?.Report(new BenchProgress(name, (double)(r + 1) / requests.Count));
        }

        var result = comparison.ToResult(name, requests.Count, requests.Average(q => q.Tokens.Length));
        return result with
        {
            HitRateByTurn = byTurn.Count == 0 ? null : byTurn.ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv => (double)kv.Value.Hit / kv.Value.Total),
            WriteReadRatio = bytesRead == 0 ? null : (double)bytesWritten / bytesRead,
            VictimHitRate = victimTotal == 0 ? null : (double)victimHit / victimTotal,
        };
    }
}
