using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using KvTier.Cluster.DataPlane;
using KvTier.Cluster.Membership;
using KvTier.Core;
using KvTier.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Cluster.Runtime;

/// <summary>
/// A node's view of the cluster at work: rendezvous placement over live members, replication of what this node stores
/// (asynchronous through a bounded queue, or acknowledged by one/all owners), cluster-wide lookups (one batched
/// EXISTS per owner, in parallel) and fetches of remote blocks into the local store (hedged to a second replica after
/// the running p95, single-flight per block). Peer failures are per block, never for the whole call.
/// </summary>
public sealed partial class ClusterNode : IAsyncDisposable
{
    private readonly IMembership _membership;
    private readonly IBlockStore _store;
    private readonly ClusterOptions _options;
    private readonly PeerDataClientOptions _clientOptions;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, PeerDataClient> _clients = new();
    private readonly ConcurrentDictionary<(string Tenant, BlockKey Key), Task<BlockStatus>> _inflight = new();
    private readonly Channel<(string Tenant, BlockKey Key, TimeSpan? Ttl)> _queue;
    private readonly ClusterCounters _counters = new();
    private readonly LatencyTracker _latency;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _replicator;

    /// <summary>Starts the runtime over a membership that has already joined.</summary>
    public ClusterNode(IMembership membership, IBlockStore store, ClusterOptions options, PeerDataClientOptions clientOptions, ILogger? logger = null)
    {
        _membership = membership;
        _store = store;
        _options = options;
        _clientOptions = clientOptions;
        _logger = logger ?? NullLogger.Instance;
        _latency = new LatencyTracker(options.InitialHedgeDelay);
        _queue = Channel.CreateBounded<(string, BlockKey, TimeSpan?)>(new BoundedChannelOptions(options.ReplicationQueue)
        {
            FullMode = BoundedChannelFullMode.Wait, // a full queue slows writers; nothing is dropped
            SingleReader = true,
        });
        _membership.Changed += OnViewChanged;
        _replicator = Task.Run(() => ReplicateLoopAsync(_stop.Token));
    }

    /// <summary>The current view.</summary>
    public ClusterView View => _membership.View;

    /// <summary>Settings.</summary>
    public ClusterOptions Options => _options;

    /// <summary>Blocks waiting in the replication queue.</summary>
    public long ReplicationQueue => _counters.Queued;

    /// <summary>Copies stored on peers.</summary>
    public long Replicated => _counters.Replicated;

    /// <summary>Copies that could not be stored on a peer.</summary>
    public long ReplicationFailures => _counters.Failures;

    /// <summary>Blocks fetched from peers into the local store.</summary>
    public long RemoteFetches => _counters.Fetches;

    /// <summary>The owners of <paramref name="key"/> among live members, best first.</summary>
    public ClusterMember[] Owners(in BlockKey key) => Rendezvous.OwnersOf(key, View.Live, _options.Replicas);

    /// <summary>
    /// Replicates a block this node just stored. With <see cref="WriteAck.Local"/> it is queued (waiting while the queue
    /// is full); otherwise it is sent now from <paramref name="payload"/> and the call returns once one or all owners
    /// stored it. Returns false when the requested acknowledgement could not be had.
    /// </summary>
    public async Task<bool> ReplicateAsync(string tenant, BlockKey key, ReadOnlyMemory<byte> payload, ulong geometryFingerprint, TimeSpan? ttl,
        CancellationToken cancellationToken)
    {
        var targets = Owners(key).Where(m => m.NodeId != View.Self.NodeId).ToArray();
        if (_options.WriteAck == WriteAck.Local || targets.Length == 0)
        {
            if (targets.Length > 0)
            {
                _counters.Enqueued();
                await _queue.Writer.WriteAsync((tenant, key, ttl), cancellationToken).ConfigureAwait(false);
            }

            // With no other live owner, "all" owners have it; "one" copy elsewhere cannot be had.
            return _options.WriteAck != WriteAck.One;
        }

        var header = BlockHeader.For(payload.Span, geometryFingerprint, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var sends = targets.Select(t => PutOnAsync(t, tenant, key, header, payload, ttl, cancellationToken)).ToList();
        if (_options.WriteAck == WriteAck.All)
        {
            return (await Task.WhenAll(sends).ConfigureAwait(false)).All(ok => ok);
        }

        // One: the first success acknowledges; the others finish in the background from the same (caller-owned) buffer,
        // so wait for them too before the caller may reuse it.
        var all = Task.WhenAll(sends);
        while (sends.Count > 0)
        {
            var done = await Task.WhenAny(sends).ConfigureAwait(false);
            sends.Remove(done);
            if (await done.ConfigureAwait(false))
            {
                await all.ConfigureAwait(false);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How many of <paramref name="keys"/> (which follow a local prefix) are present on live owners, as a leading run,
    /// and which node holds each of them.
    /// </summary>
    public async Task<(int Prefix, string[] Holders)> LookupAsync(string tenant, IReadOnlyList<BlockKey> keys, CancellationToken cancellationToken)
    {
        var holders = new string?[keys.Count];
        var perPeer = new Dictionary<string, (ClusterMember Member, List<int> Indices)>();
        for (var i = 0; i < keys.Count; i++)
        {
            foreach (var owner in Owners(keys[i]))
            {
                if (owner.NodeId == View.Self.NodeId)
                {
                    continue;
                }

                if (!perPeer.TryGetValue(owner.NodeId, out var entry))
                {
                    perPeer[owner.NodeId] = entry = (owner, []);
                }

                entry.Indices.Add(i);
            }
        }

        await Task.WhenAll(perPeer.Values.Select(async p =>
        {
            bool[] present;
            try
            {
                present = await Client(p.Member).ExistsAsync(tenant, p.Indices.Select(i => keys[i]).ToArray(), cancellationToken).ConfigureAwait(false);
            }
            catch (PeerDataException e)
            {
                LogPeerFailed(_logger, p.Member.NodeId, "exists", e.Message);
                return; // that peer's keys count as absent there; other owners may still have them
            }

            for (var j = 0; j < present.Length; j++)
            {
                if (present[j])
                {
                    Interlocked.CompareExchange(ref holders[p.Indices[j]], p.Member.NodeId, null);
                }
            }
        })).ConfigureAwait(false);

        var prefix = 0;
        while (prefix < keys.Count && holders[prefix] is not null)
        {
            prefix++;
        }

        return (prefix, holders[..prefix].Select(h => h!).ToArray());
    }

    /// <summary>
    /// Brings a block held by other owners into the local store (verified on receipt, then verified again by the store).
    /// Concurrent fetches of the same block share one transfer. Returns Ok when the block is now local.
    /// </summary>
    public Task<BlockStatus> FetchAsync(string tenant, BlockKey key)
    {
        var flight = (tenant, key);
        // The shared transfer has its own deadline: one caller giving up must not fail the others.
        var task = _inflight.GetOrAdd(flight, f => FetchCoreAsync(f.Tenant, f.Key, CancellationToken.None));
        _ = task.ContinueWith(_ => _inflight.TryRemove(KeyValuePair.Create(flight, task)), TaskScheduler.Default);
        return task;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _membership.Changed -= OnViewChanged;
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _replicator.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var client in _clients.Values)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task<BlockStatus> FetchCoreAsync(string tenant, BlockKey key, CancellationToken cancellationToken)
    {
        var owners = Owners(key).Where(m => m.NodeId != View.Self.NodeId).ToArray();
        if (owners.Length == 0)
        {
            return BlockStatus.NotFound;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.RequestTimeout);
        var watch = Stopwatch.StartNew();
        var attempts = new List<Task<BlockStatus>> { FetchFromAsync(owners[0], tenant, key, deadline.Token) };
        var next = 1;
        while (attempts.Count > 0)
        {
            // Hedge: if the first replica is slower than the p95, ask the next one too; the first Ok wins.
            var hedge = next < owners.Length ? Task.Delay(_latency.P95, deadline.Token) : null;
            var done = hedge is null ? await Task.WhenAny(attempts).ConfigureAwait(false) : await Task.WhenAny([.. attempts, hedge]).ConfigureAwait(false);
            if (done == hedge)
            {
                _counters.Hedged();
                attempts.Add(FetchFromAsync(owners[next++], tenant, key, deadline.Token));
                continue;
            }

            var attempt = (Task<BlockStatus>)done;
            attempts.Remove(attempt);
            if (await attempt.ConfigureAwait(false) == BlockStatus.Ok)
            {
                _latency.Add(watch.Elapsed);
                _counters.Fetched();
                await deadline.CancelAsync().ConfigureAwait(false);
                return BlockStatus.Ok;
            }

            if (attempts.Count == 0 && next < owners.Length)
            {
                attempts.Add(FetchFromAsync(owners[next++], tenant, key, deadline.Token));
            }
        }

        _counters.FetchMissed();
        return BlockStatus.NotFound;
    }

    private async Task<BlockStatus> FetchFromAsync(ClusterMember owner, string tenant, BlockKey key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Client(owner).FetchIntoStoreAsync(tenant, [key], _store, cancellationToken).ConfigureAwait(false);
            if (result.Failure is { } failure)
            {
                LogPeerFailed(_logger, owner.NodeId, "fetch", failure.Message);
            }

            return result.Statuses[0];
        }
        catch (OperationCanceledException)
        {
            return BlockStatus.Timeout;
        }
    }

    private async Task<bool> PutOnAsync(ClusterMember target, string tenant, BlockKey key, BlockHeader header, ReadOnlyMemory<byte> payload,
        TimeSpan? ttl, CancellationToken cancellationToken)
    {
        try
        {
            var status = await Client(target).PutAsync(tenant, key, header, payload, ttl, cancellationToken).ConfigureAwait(false);
            if (status == BlockStatus.Ok)
            {
                _counters.ReplicaStored();
                return true;
            }

            LogPeerFailed(_logger, target.NodeId, "put", status.ToString());
        }
        catch (PeerDataException e)
        {
            LogPeerFailed(_logger, target.NodeId, "put", e.Message);
        }

        _counters.ReplicaFailed();
        return false;
    }

    // Reads each queued block back from the local store (verified) and sends it to its owners.
    private async Task ReplicateLoopAsync(CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(_store.MaxBlockBytes, int.MaxValue));
        try
        {
            await foreach (var (tenant, key, ttl) in _queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                _counters.Dequeued();
                if (_store.Get(tenant, key, buffer, out var info) != BlockStatus.Ok)
                {
                    continue; // evicted or deleted meanwhile: nothing to copy
                }

                var header = new BlockHeader(info.GeometryFingerprint, info.PayloadLength, info.PayloadChecksum, info.CreatedUnixMs, info.ExpiresUnixMs);
                var payload = buffer.AsMemory(0, (int)info.PayloadLength);
                foreach (var target in Owners(key).Where(m => m.NodeId != View.Self.NodeId))
                {
                    await PutOnAsync(target, tenant, key, header, payload, ttl, stop).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private PeerDataClient Client(ClusterMember member) =>
        _clients.GetOrAdd(member.NodeId + "@" + member.DataEndpoint, _ => new PeerDataClient(ParseEndpoint(member.DataEndpoint), _clientOptions, _logger));

    private void OnViewChanged(ClusterView view)
    {
        // Drop clients of members that left; their connections would only time out.
        var live = view.Members.Select(m => m.NodeId + "@" + m.DataEndpoint).ToHashSet();
        foreach (var (id, client) in _clients)
        {
            if (!live.Contains(id) && _clients.TryRemove(id, out _))
            {
                _ = client.DisposeAsync().AsTask();
            }
        }
    }

    private static EndPoint ParseEndpoint(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        var host = hostPort[..colon].Trim('[', ']');
        var port = int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    [LoggerMessage(4300, LogLevel.Warning, "Peer {NodeId} failed a {Operation}: {Reason}")]
    private static partial void LogPeerFailed(ILogger logger, string nodeId, string operation, string reason);
}
