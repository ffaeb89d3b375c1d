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

    /// <summary>
    /// Waits until the prefill lease on a prefix ends (released, or lapsed) or <paramref name="maxWaitMs"/> passes;
    /// <c>Ended</c> says which. Then look the prefix up: it is cached unless its holder gave up.
    /// </summary>
    public async Task<Rpc.AwaitPrefillResponse> AwaitPrefillAsync(BlockKey prefix, uint maxWaitMs, CancellationToken cancellationToken = default) =>
        await _rpc.AwaitPrefillAsync(new Rpc.AwaitPrefillRequest { PrefixKey = ByteString.CopyFrom(prefix.AsSpan()), MaxWaitMs = maxWaitMs },
            _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
}
