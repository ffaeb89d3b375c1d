using System.Buffers;
using Grpc.Core;
using KvTier.Core;
using KvTier.Store;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    // Lookup answers reuse these: they are never mutated, and a chain of thousands of keys then costs no per-key object.
    private static readonly Rpc.BlockLocation s_dram = new() { Location = Rpc.Location.LocalDram };
    private static readonly Rpc.BlockLocation s_ssd = new() { Location = Rpc.Location.LocalSsd };
    private static readonly Rpc.BlockLocation s_unspecified = new() { Location = Rpc.Location.Unspecified };

    /// <summary>
    /// The count of leading cached keys of a chain, and where each of them lives: this node first, then (in a cluster)
    /// the owners of the rest, asked in parallel.
    /// </summary>
    public override async Task<Rpc.LookupResponse> Lookup(Rpc.LookupRequest request, ServerCallContext context)
    {
        var n = request.Keys.Count;
        var keys = ArrayPool<BlockKey>.Shared.Rent(n);
        var tiers = ArrayPool<StorageTier>.Shared.Rent(n);
        try
        {
            ParseKeys(context, request.Keys, keys);
            var prefix = _store.LookupPrefix(Tenant, keys.AsSpan(0, n), tiers.AsSpan(0, n));
            var response = new Rpc.LookupResponse { PrefixBlocks = (uint)prefix };
            for (var i = 0; i < prefix; i++)
            {
                response.Locations.Add(tiers[i] switch
                {
                    StorageTier.Dram => s_dram,
                    StorageTier.Ssd => s_ssd,
                    _ => s_unspecified,
                });
            }

            if (prefix < n && _cluster.Node is { } node)
            {
                var (remote, holders) = await node.LookupAsync(Tenant, new ArraySegment<BlockKey>(keys, prefix, n - prefix), context.CancellationToken)
                    .ConfigureAwait(false);
                response.PrefixBlocks += (uint)remote;
                foreach (var holder in holders)
                {
                    response.Locations.Add(holder.Length == 0 ? s_dram : new Rpc.BlockLocation { Location = Rpc.Location.Remote, NodeId = holder });
                }
            }

            if (request.Plan is { } plan)
            {
                response.Plan = PlanFor(context, plan, n, response.Locations);
            }

            return response;
        }
        finally
        {
            ArrayPool<BlockKey>.Shared.Return(keys);
            ArrayPool<StorageTier>.Shared.Return(tiers);
        }
    }

    /// <summary>Deletes blocks; answers how many existed.</summary>
    public override Task<Rpc.DeleteResponse> Delete(Rpc.KeysRequest request, ServerCallContext context)
    {
        var deleted = ForEachKey(context, request.Keys, (store, key) => store.Delete(Tenant, key));
        return Task.FromResult(new Rpc.DeleteResponse { Deleted = deleted });
    }

    /// <summary>Refreshes recency and sets (0: clears) the TTL of blocks; answers how many exist.</summary>
    public override Task<Rpc.TouchResponse> Touch(Rpc.TouchRequest request, ServerCallContext context)
    {
        TimeSpan? ttl = request.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(request.TtlSeconds);
        var touched = ForEachKey(context, request.Keys, (store, key) => store.Touch(Tenant, key, ttl));
        return Task.FromResult(new Rpc.TouchResponse { Touched = touched });
    }

    // Every key is checked before any is acted on, so a bad key in the middle changes nothing.
    private uint ForEachKey(ServerCallContext context, Google.Protobuf.Collections.RepeatedField<Google.Protobuf.ByteString> keyBytes,
        Func<IBlockStore, BlockKey, BlockStatus> action)
    {
        var n = keyBytes.Count;
        var keys = ArrayPool<BlockKey>.Shared.Rent(n);
        try
        {
            ParseKeys(context, keyBytes, keys);
            uint done = 0;
            for (var i = 0; i < n; i++)
            {
                if (action(_store, keys[i]) == BlockStatus.Ok)
                {
                    done++;
                }
            }

            return done;
        }
        finally
        {
            ArrayPool<BlockKey>.Shared.Return(keys);
        }
    }
}
