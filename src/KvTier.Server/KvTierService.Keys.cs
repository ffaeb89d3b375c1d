using System.Buffers;
using Grpc.Core;
using KvTier.Core;
using KvTier.Server.Auth;
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
    /// the owners of the rest, asked in parallel. A key counts when it is in any namespace the call reads (its tenant's
    /// own, then <c>shared</c>), so a prefix may start with shared blocks and go on with the tenant's own.
    /// </summary>
    public override async Task<Rpc.LookupResponse> Lookup(Rpc.LookupRequest request, ServerCallContext context)
    {
        var n = request.Keys.Count;
        var keys = ArrayPool<BlockKey>.Shared.Rent(n);
        var tiers = ArrayPool<StorageTier>.Shared.Rent(n);
        var reads = CallScope.Of(context).Reads;
        try
        {
            ParseKeys(context, request.Keys, keys);
            var prefix = LocalPrefix(reads, keys.AsSpan(0, n), tiers.AsSpan(0, n));
            var response = new Rpc.LookupResponse { PrefixBlocks = (uint)prefix };
            var remoteHits = 0;
            for (var i = 0; i < prefix; i++)
            {
                response.Locations.Add(tiers[i] switch
                {
                    StorageTier.Dram => s_dram,
                    StorageTier.Ssd => s_ssd,
                    _ => s_unspecified,
                });
            }

            // The rest from the owners, one namespace after the other, until none of them has the next key.
            for (int i = 0, stalled = 0; prefix < n && stalled < reads.Count && _cluster.Node is { } node; i = (i + 1) % reads.Count)
            {
                var (remote, holders) = await node.LookupAsync(reads[i], new ArraySegment<BlockKey>(keys, prefix, n - prefix), context.CancellationToken)
                    .ConfigureAwait(false);
                prefix += remote;
                stalled = remote == 0 ? stalled + 1 : 1;
                foreach (var holder in holders)
                {
                    response.Locations.Add(holder.Length == 0 ? s_dram : new Rpc.BlockLocation { Location = Rpc.Location.Remote, NodeId = holder });
                    remoteHits += holder.Length == 0 ? 0 : 1;
                }
            }

            response.PrefixBlocks = (uint)prefix;

            if (request.Plan is { } plan)
            {
                response.Plan = PlanFor(context, plan, n, response.Locations);
            }

            _metrics.Lookup(n, (int)response.PrefixBlocks, remoteHits, request.HasTurn ? request.Turn : null);

            return response;
        }
        finally
        {
            ArrayPool<BlockKey>.Shared.Return(keys);
            ArrayPool<StorageTier>.Shared.Return(tiers);
        }
    }

    /// <summary>Deletes blocks of the call's namespace (its tenant, or shared for an admin key); answers how many existed.</summary>
    public override Task<Rpc.DeleteResponse> Delete(Rpc.KeysRequest request, ServerCallContext context)
    {
        var ns = Writes(context);
        var deleted = ForEachKey(context, request.Keys, (store, key) => store.Delete(ns, key));
        return Task.FromResult(new Rpc.DeleteResponse { Deleted = deleted });
    }

    /// <summary>Refreshes recency and sets (0: clears) the TTL of blocks of the call's namespace; answers how many exist.</summary>
    public override Task<Rpc.TouchResponse> Touch(Rpc.TouchRequest request, ServerCallContext context)
    {
        var ns = Writes(context);
        TimeSpan? ttl = request.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(request.TtlSeconds);
        var touched = ForEachKey(context, request.Keys, (store, key) => store.Touch(ns, key, ttl));
        return Task.FromResult(new Rpc.TouchResponse { Touched = touched });
    }

    // The local prefix over the namespaces a call reads: each is asked from where the last one stopped, until none has
    // the next key. One namespace costs one walk, as before tenants.
    private int LocalPrefix(IReadOnlyList<string> reads, Span<BlockKey> keys, Span<StorageTier> tiers)
    {
        var prefix = 0;
        for (int i = 0, stalled = 0; prefix < keys.Length && stalled < reads.Count; i = (i + 1) % reads.Count)
        {
            var found = _store.LookupPrefix(reads[i], keys[prefix..], tiers[prefix..]);
            prefix += found;
            stalled = found == 0 ? stalled + 1 : 1;
        }

        return prefix;
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
