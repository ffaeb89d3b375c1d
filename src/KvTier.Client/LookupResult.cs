using KvTier.Protos.V1;

namespace KvTier.Client;

/// <summary>The answer to a lookup: how many leading keys of the chain are cached, and where each of them lives.</summary>
/// <param name="Prefix">Leading keys cached.</param>
/// <param name="Locations">One entry per leading cached key.</param>
/// <param name="Plan">The fetch-vs-recompute plan, when one was asked for.</param>
public sealed record LookupResult(int Prefix, IReadOnlyList<BlockLocation> Locations, FetchPlan? Plan = null);
