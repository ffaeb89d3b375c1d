using Grpc.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    /// <summary>Store counters plus this node's identity (id, seed fingerprint, block limit).</summary>
    public override Task<Rpc.StatsResponse> Stats(Rpc.StatsRequest request, ServerCallContext context)
    {
        var s = _store.GetStats();
        return Task.FromResult(new Rpc.StatsResponse
        {
            DramBlocks = (ulong)s.DramBlocks,
            DramBytes = (ulong)s.DramBytes,
            SsdBlocks = (ulong)s.SsdBlocks,
            SsdBytes = (ulong)s.SsdBytes,
            MemoryBudgetBytes = (ulong)s.MemoryBudgetBytes,
            AllocatedBytes = (ulong)s.AllocatedBytes,
            PageBytes = (ulong)s.PageBytes,
            Hits = (ulong)s.Hits,
            Misses = (ulong)s.Misses,
            Puts = (ulong)s.Puts,
            PutPayloadBytes = (ulong)s.PutPayloadBytes,
            GetPayloadBytes = (ulong)s.GetPayloadBytes,
            EvictionsCapacity = (ulong)s.EvictionsCapacity,
            EvictionsTtl = (ulong)s.EvictionsTtl,
            EvictionsDelete = (ulong)s.EvictionsDelete,
            Corruptions = (ulong)s.Corruptions,
            SecondChanceCopies = (ulong)s.SecondChanceCopies,
            RetentionCopies = (ulong)s.RetentionCopies,
            NodeId = _nodeId,
            SeedFingerprint = _seedFingerprint,
            MaxBlockBytes = (ulong)_store.MaxBlockBytes,
        });
    }
}
