using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    /// <summary>How many leading keys of <paramref name="chain"/> are cached, and where each of them lives.</summary>
    public Task<LookupResult> LookupAsync(IReadOnlyList<BlockKey> chain, CancellationToken ct = default) => LookupAsync(chain, null, ct);

    /// <summary>
    /// Like <see cref="LookupAsync(IReadOnlyList{BlockKey}, CancellationToken)"/>, and with <paramref name="plan"/> the
    /// answer also carries the server's fetch-vs-recompute plan for the prompt.
    /// </summary>
    public async Task<LookupResult> LookupAsync(IReadOnlyList<BlockKey> chain, Rpc.PlanOptions? plan, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var request = new Rpc.LookupRequest { Plan = plan };
        foreach (var key in chain)
        {
            request.Keys.Add(KeyBytes(key));
        }

        var response = await _rpc.LookupAsync(request, Options(ct)).ConfigureAwait(false);
        return new LookupResult((int)response.PrefixBlocks, response.Locations, response.Plan);
    }

    /// <summary>Deletes blocks; returns how many existed.</summary>
    public async Task<int> DeleteAsync(IEnumerable<BlockKey> keys, CancellationToken ct = default)
    {
        var request = new Rpc.KeysRequest();
        request.Keys.AddRange(KeysOf(keys));
        var response = await _rpc.DeleteAsync(request, Options(ct)).ConfigureAwait(false);
        return (int)response.Deleted;
    }

    /// <summary>Refreshes blocks' recency and sets their TTL (null: no expiry); returns how many exist.</summary>
    public async Task<int> TouchAsync(IEnumerable<BlockKey> keys, TimeSpan? ttl, CancellationToken ct = default)
    {
        var request = new Rpc.TouchRequest { TtlSeconds = TtlSeconds(ttl) };
        request.Keys.AddRange(KeysOf(keys));
        var response = await _rpc.TouchAsync(request, Options(ct)).ConfigureAwait(false);
        return (int)response.Touched;
    }

    /// <summary>The server's store counters and identity (node id, seed fingerprint, block limit).</summary>
    public async Task<Rpc.StatsResponse> StatsAsync(CancellationToken ct = default) =>
        await _rpc.StatsAsync(new Rpc.StatsRequest(), Options(ct)).ConfigureAwait(false);

    private static IEnumerable<Google.Protobuf.ByteString> KeysOf(IEnumerable<BlockKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Select(k => KeyBytes(k));
    }
}
