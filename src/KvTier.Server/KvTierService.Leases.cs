using Grpc.Core;
using KvTier.Core;
using KvTier.Server.Auth;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server;

internal sealed partial class KvTierService
{
    // A long poll's limit: long enough for any prefill, short enough that proxies and load balancers keep the call.
    private const uint MaxAwaitPrefillMs = 60_000;

    /// <summary>
    /// Takes (or renews) the in-flight lease on a prefix at its owner node, or says who is computing it. Leases are kept
    /// per tenant: another tenant computing the same tokens is never seen.
    /// </summary>
    public override async Task<Rpc.BeginPrefillResponse> BeginPrefill(Rpc.BeginPrefillRequest request, ServerCallContext context)
    {
        var key = ParseKey(context, request.PrefixKey, "prefix_key");
        if (string.IsNullOrWhiteSpace(request.Holder))
        {
            throw Reject(context, StatusCode.InvalidArgument, "holder: name the engine instance that will compute the prefix");
        }

        if (LeaseOwner(key) is { } owner)
        {
            // The owner admits the caller's own key, so the lease lands in the caller's tenant there too.
            return await new Rpc.KvTier.KvTierClient(_cluster.ChannelTo(owner))
                .BeginPrefillAsync(request, CallScope.Forwarded(context), cancellationToken: context.CancellationToken).ConfigureAwait(false);
        }

        var lease = _planning.Leases.TryAcquire(CallScope.Of(context).LeaseKey(key), request.Holder, TimeSpan.FromMilliseconds(request.EtaMs));
        return new Rpc.BeginPrefillResponse
        {
            Acquired = lease.Status == Policy.LeaseStatus.Acquired,
            Holder = lease.Holder,
            EtaRemainingMs = (uint)Math.Ceiling(lease.EtaRemaining.TotalMilliseconds),
            EtaOverdue = lease.EtaOverdue,
            LeaseNode = _nodeId,
            OverdueMs = (uint)Math.Ceiling(lease.OverdueBy.TotalMilliseconds),
        };
    }

    /// <summary>Releases a lease once its prefix is cached (or the holder gave up).</summary>
    public override async Task<Rpc.EndPrefillResponse> EndPrefill(Rpc.EndPrefillRequest request, ServerCallContext context)
    {
        var key = ParseKey(context, request.PrefixKey, "prefix_key");
        if (string.IsNullOrWhiteSpace(request.Holder))
        {
            throw Reject(context, StatusCode.InvalidArgument, "holder: name the engine instance that holds the lease");
        }

        if (LeaseOwner(key) is { } owner)
        {
            return await new Rpc.KvTier.KvTierClient(_cluster.ChannelTo(owner))
                .EndPrefillAsync(request, CallScope.Forwarded(context), cancellationToken: context.CancellationToken).ConfigureAwait(false);
        }

        return new Rpc.EndPrefillResponse { Released = _planning.Leases.Release(CallScope.Of(context).LeaseKey(key), request.Holder) };
    }

    /// <summary>
    /// Waits until the lease on a prefix ends or max_wait_ms passes. Waiting holds no thread: a released lease wakes
    /// its waiters, and a lapse is checked when it is due.
    /// </summary>
    public override async Task<Rpc.AwaitPrefillResponse> AwaitPrefill(Rpc.AwaitPrefillRequest request, ServerCallContext context)
    {
        var key = ParseKey(context, request.PrefixKey, "prefix_key");
        if (request.MaxWaitMs is 0 or > MaxAwaitPrefillMs)
        {
            throw Reject(context, StatusCode.InvalidArgument,
                $"max_wait_ms: {request.MaxWaitMs} is out of range; wait 1 to {MaxAwaitPrefillMs} ms, and ask again to wait longer");
        }

        if (LeaseOwner(key) is { } owner)
        {
            return await new Rpc.KvTier.KvTierClient(_cluster.ChannelTo(owner))
                .AwaitPrefillAsync(request, CallScope.Forwarded(context), cancellationToken: context.CancellationToken).ConfigureAwait(false);
        }

        var lease = await _planning.Leases.WaitAsync(CallScope.Of(context).LeaseKey(key), TimeSpan.FromMilliseconds(request.MaxWaitMs), context.CancellationToken)
            .ConfigureAwait(false);
        return lease is not { } live
            ? new Rpc.AwaitPrefillResponse { Ended = true }
            : new Rpc.AwaitPrefillResponse
            {
                Holder = live.Holder,
                EtaRemainingMs = (uint)Math.Ceiling(live.EtaRemaining.TotalMilliseconds),
                EtaOverdue = live.EtaOverdue,
                OverdueMs = (uint)Math.Ceiling(live.OverdueBy.TotalMilliseconds),
            };
    }

    // In a cluster a prefix's lease lives at its first owner, so every engine that misses it meets the same lease.
    private string? LeaseOwner(in BlockKey key)
    {
        if (_cluster.Node is not { } node)
        {
            return null;
        }

        var owners = node.Owners(key);
        return owners.Length == 0 || owners[0].NodeId == node.View.Self.NodeId ? null : owners[0].GrpcEndpoint;
    }
}
