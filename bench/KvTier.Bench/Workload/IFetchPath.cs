using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>How the harness's engine fetches cached blocks: from its node's DRAM, or from a peer over a shaped link.</summary>
internal interface IFetchPath : IAsyncDisposable
{
    /// <summary>The source the planner sees.</summary>
    FetchSource Source { get; }

    /// <summary>Short name for reports (local, 25gbit, ...).</summary>
    string Name { get; }

    /// <summary>
    /// Fetches <paramref name="keys"/>[<paramref name="from"/>..<paramref name="to"/>) for real, every block
    /// checksum-verified, and returns the milliseconds it took and how many leading blocks of that range arrived. A
    /// block can go missing between the lookup and the fetch (evicted by the writes in between); the engine then
    /// recomputes from there on, as it does in production.
    /// </summary>
    Task<FetchOutcome> FetchAsync(BlockKey[] keys, int from, int to, CancellationToken ct);

    /// <summary>Fetches the first <paramref name="count"/> of <paramref name="keys"/>.</summary>
    Task<FetchOutcome> FetchAsync(BlockKey[] keys, int count, CancellationToken ct) => FetchAsync(keys, 0, count, ct);
}

/// <summary>A timed fetch: how long it took and how many leading blocks came back verified.</summary>
internal readonly record struct FetchOutcome(double Ms, int Blocks);

internal static class FetchOutcomes
{
    /// <summary>The leading run of <paramref name="ok"/>, for results in block order.</summary>
    public static int LeadingRun<T>(IReadOnlyList<T> results, Func<T, bool> ok)
    {
        var n = 0;
        while (n < results.Count && ok(results[n]))
        {
            n++;
        }

        return n;
    }
}
