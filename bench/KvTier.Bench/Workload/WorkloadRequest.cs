namespace KvTier.Bench;

/// <summary>One request of a workload: which engine sends it, for which tenant, with which prompt.</summary>
/// <param name="Engine">The engine (replica) that serves it.</param>
/// <param name="Tenant">The tenant whose namespace holds its blocks.</param>
/// <param name="Tokens">The prompt, cl100k token ids of real text.</param>
/// <param name="Turn">Turn (or step) index within its conversation, 0 for the first; -1 where turns do not apply.</param>
/// <param name="Victim">Counted in the victim's hit rate (noisy-neighbour: the quiet tenant's requests).</param>
internal sealed record WorkloadRequest(int Engine, string Tenant, int[] Tokens, int Turn, bool Victim = false);
