using Google.Protobuf;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Client;

public sealed partial class KvTierClient
{
    /// <summary>Asks for the in-flight prefill lease on a prefix (named by its last block's key).</summary>
    public async Task<Rpc.BeginPrefillResponse> BeginPrefillAsync(BlockKey prefix, string holder, uint etaMs, CancellationToken cancellationToken = default) =>
        await _rpc.BeginPrefillAsync(new Rpc.BeginPrefillRequest { PrefixKey = ByteString.CopyFrom(prefix.AsSpan()), Holder = holder, EtaMs = etaMs },
            _headers, cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Releases a prefill lease; false when the caller no longer held it.</summary>
    public async Task<bool> EndPrefillAsync(BlockKey prefix, string holder, CancellationToken cancellationToken = default) =>
        (await _rpc.EndPrefillAsync(new Rpc.EndPrefillRequest { PrefixKey = ByteString.CopyFrom(prefix.AsSpan()), Holder = holder },
            _headers, cancellationToken: cancellationToken).ConfigureAwait(false)).Released;
}
