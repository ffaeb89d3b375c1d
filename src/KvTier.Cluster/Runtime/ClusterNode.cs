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
using Polly;
using Polly.CircuitBreaker;

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
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _breakers = new();
    private readonly ConcurrentDictionary<string, bool> _openCircuits = new();
    private readonly ConcurrentDictionary<(string Tenant, BlockKey Key), Task<BlockStatus>> _inflight = new();
    private readonly Channel<(string Tenant, BlockKey Key, TimeSpan? Ttl)> _queue;
    private readonly ClusterCounters _counters = new();
    private readonly LatencyTracker _latency;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _replicator;
    private HashSet<string> _lastLive;
    private int _repairRunning;
    private int _repairAgain;
    private Task _repair = Task.CompletedTask;

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
        _lastLive = membership.View.Live.Select(m => m.NodeId).ToHashSet();
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

    /// <summary>Payload bytes of the copies stored on peers (replication, write-ack copies and repair).</summary>
    public long ReplicatedBytes => _counters.ReplicatedBytes;

    /// <summary>Copies that could not be stored on a peer.</summary>
    public long ReplicationFailures => _counters.Failures;

    /// <summary>Remote fetches that no owner could serve.</summary>
    public long RemoteFetchMisses => _counters.FetchMisses;

    /// <summary>Remote fetches that asked a second replica because the first was slower than the p95.</summary>
    public long HedgedFetches => _counters.Hedges;

    /// <summary>Copies re-created on new owners after a member left.</summary>
    public long Repaired => _counters.Repaired;

    /// <summary>The re-replication pass in progress (completed when none is).</summary>
    public Task RepairTask => Volatile.Read(ref _repair);

    /// <summary>Blocks fetched from peers into the local store.</summary>
    public long RemoteFetches => _counters.Fetches;

    /// <summary>Payload bytes of the blocks fetched from peers into the local store.</summary>
    public long FetchedBytes => _counters.FetchedBytes;

    /// <summary>The owners of <paramref name="key"/> among live members, best first.</summary>
    public ClusterMember[] Owners(in BlockKey key) => Rendezvous.OwnersOf(key, View.Live, _options.Replicas);

    // The owners a copy is sent to or fetched from: every owner but this node.
    private ClusterMember[] OtherOwners(in BlockKey key)
    {
        var self = View.Self.NodeId;
        return Array.FindAll(Owners(key), m => m.NodeId != self);
    }

    /// <summary>
    /// Replicates a block this node just stored. With <see cref="WriteAck.Local"/> it is queued (waiting while the queue
    /// is full); otherwise it is sent now from <paramref name="payload"/> and the call returns once one or all owners
    /// stored it. Returns false when the requested acknowledgement could not be had.
    /// </summary>
    public async Task<bool> ReplicateAsync(string tenant, BlockKey key, ReadOnlyMemory<byte> payload, ulong geometryFingerprint, TimeSpan? ttl,
        CancellationToken cancellationToken)
    {
        var targets = OtherOwners(key);
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
        if (_options.WriteAck == WriteAck.All)
        {
            var sends = targets.Select(t => PutOnAsync(t, tenant, key, header, payload, ttl, cancellationToken));
            return (await Task.WhenAll(sends).ConfigureAwait(false)).All(ok => ok);
        }

        // One: owners are tried in preference order until one stores the copy; the rest get theirs through the
        // asynchronous queue (read back from the local store), so the caller's buffer is free as soon as this returns.
        foreach (var (target, i) in targets.Select((t, i) => (t, i)))
        {
            if (await PutOnAsync(target, tenant, key, header, payload, ttl, cancellationToken).ConfigureAwait(false))
            {
                if (i < targets.Length - 1)
                {
                    _counters.Enqueued();
                    await _queue.Writer.WriteAsync((tenant, key, ttl), cancellationToken).ConfigureAwait(false);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How many of <paramref name="keys"/> (which follow a local prefix) are present here or on live owners, as a
    /// leading run, and which node holds each of them ("" for this node).
    /// </summary>
    public async Task<(int Prefix, string[] Holders)> LookupAsync(string tenant, IReadOnlyList<BlockKey> keys, CancellationToken cancellationToken)
    {
        var holders = new string?[keys.Count];
        var perPeer = new Dictionary<string, (ClusterMember Member, List<int> Indices)>();
        for (var i = 0; i < keys.Count; i++)
        {
            // A block past the local prefix may still be here (a copy this node owns): "" marks it local.
            if (_store.Peek(tenant, keys[i], out _) == BlockStatus.Ok)
            {
                holders[i] = "";
                continue;
            }

            foreach (var owner in OtherOwners(keys[i]))
            {
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

        try
        {
            await RepairTask.ConfigureAwait(false);
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
        var owners = OtherOwners(key);
        if (owners.Length == 0)
        {
            return BlockStatus.NotFound;
        }

        // Each attempt carries the breaker's own timeout (RequestTimeout).
        var watch = Stopwatch.StartNew();
        var attempts = new List<Task<BlockStatus>> { FetchFromAsync(owners[0], tenant, key, cancellationToken) };
        var next = 1;
        var missed = false;
        Task? hedge = null;
        while (attempts.Count > 0)
        {
            // Hedge: if the replicas asked so far are slower than the p95, ask the next one too; the first Ok wins.
            if (hedge is null && next < owners.Length)
            {
                hedge = Task.Delay(_latency.P95, cancellationToken);
            }

            var done = await Task.WhenAny(hedge is null ? attempts : [.. attempts, hedge]).ConfigureAwait(false);
            if (done == hedge)
            {
                hedge = null;
                if (next < owners.Length)
                {
                    _counters.Hedged();
                    attempts.Add(FetchFromAsync(owners[next++], tenant, key, cancellationToken));
                }

                continue;
            }

            var attempt = (Task<BlockStatus>)done;
            attempts.Remove(attempt);
            var status = await attempt.ConfigureAwait(false);
            if (status == BlockStatus.Ok)
            {
                // A slower attempt still running is left to finish or time out on its own: its peer's circuit should
                // learn that it was slow.
                _latency.Add(watch.Elapsed);
                _counters.Fetched(_store.Peek(tenant, key, out var fetched) == BlockStatus.Ok ? fetched.PayloadLength : 0);
                if (missed)
                {
                    // Read repair: an owner lacked the block; queue it so every owner gets its copy again.
                    _counters.Enqueued();
                    if (!_queue.Writer.TryWrite((tenant, key, null)))
                    {
                        _counters.Dequeued();
                    }
                }

                return BlockStatus.Ok;
            }

            missed |= status == BlockStatus.NotFound;

            if (attempts.Count == 0 && next < owners.Length)
            {
                // Every attempt so far failed: fail over at once, and give the new attempt a full hedge interval.
                attempts.Add(FetchFromAsync(owners[next++], tenant, key, cancellationToken));
                hedge = null;
            }
        }

        _counters.FetchMissed();
        return BlockStatus.NotFound;
    }

    private async Task<BlockStatus> FetchFromAsync(ClusterMember owner, string tenant, BlockKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await Breaker(owner).ExecuteAsync(async ct =>
            {
                var result = await Client(owner).FetchIntoStoreAsync(tenant, [key], _store, ct).ConfigureAwait(false);
                // A failed connection counts against the peer's circuit; a plain miss does not.
                return result.Failure is { } failure ? throw failure : result.Statuses[0];
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ExecutionRejectedException)
        {
            // The circuit is open (the peer failed repeatedly) or the attempt ran past its deadline: ask the next owner.
            return BlockStatus.Timeout;
        }
        catch (PeerDataException e)
        {
            LogPeerFailed(_logger, owner.NodeId, "fetch", e.Message);
            return BlockStatus.Timeout;
        }
        catch (OperationCanceledException)
        {
            return BlockStatus.Timeout;
        }
    }

    /// <summary>True while the circuit to <paramref name="member"/> is open (it failed repeatedly).</summary>
    public bool IsCircuitOpen(ClusterMember member) => _openCircuits.ContainsKey(member.NodeId);

    // Per-peer circuit breaker with a deadline: a peer that hangs or fails most requests is skipped for a while, so
    // fetches go straight to the other replicas.
    private ResiliencePipeline Breaker(ClusterMember member) => _breakers.GetOrAdd(member.NodeId, id => new ResiliencePipelineBuilder()
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 3,
            SamplingDuration = TimeSpan.FromSeconds(10),
            BreakDuration = TimeSpan.FromSeconds(5),
            ShouldHandle = new PredicateBuilder().Handle<PeerDataException>().Handle<Polly.Timeout.TimeoutRejectedException>(),
            OnOpened = args =>
            {
                _openCircuits[id] = true;
                LogCircuit(_logger, id, "open");
                return ValueTask.CompletedTask;
            },
            OnClosed = args =>
            {
                _openCircuits.TryRemove(id, out _);
                LogCircuit(_logger, id, "closed");
                return ValueTask.CompletedTask;
            },
        })
        .AddTimeout(_options.RequestTimeout)
        .Build());

    private async Task<bool> PutOnAsync(ClusterMember target, string tenant, BlockKey key, BlockHeader header, ReadOnlyMemory<byte> payload,
        TimeSpan? ttl, CancellationToken cancellationToken)
    {
        try
        {
            var status = await Client(target).PutAsync(tenant, key, header, payload, ttl, cancellationToken).ConfigureAwait(false);
            if (status == BlockStatus.Ok)
            {
                _counters.ReplicaStored(payload.Length);
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

                var header = info.Header;
                var payload = buffer.AsMemory(0, (int)info.PayloadLength);
                foreach (var target in OtherOwners(key))
                {
                    if (!await HasAsync(target, tenant, key, stop).ConfigureAwait(false))
                    {
                        await PutOnAsync(target, tenant, key, header, payload, ttl, stop).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // One pass at a time; a loss during a pass schedules one more pass after it.
    private void ScheduleRepair()
    {
        Volatile.Write(ref _repairAgain, 1);
        if (Interlocked.CompareExchange(ref _repairRunning, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _repair, Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _repairAgain, 0) == 1 && !_stop.IsCancellationRequested)
                {
                    await RepairAsync(_stop.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _repairRunning, 0);
            }
        }));
    }

    /// <summary>
    /// After a member left, every block this node holds is checked against its owners in the new view (one batched
    /// EXISTS per owner) and copied to the owners that lack it, at <see cref="ClusterOptions.RepairBytesPerSecond"/>.
    /// </summary>
    private async Task RepairAsync(CancellationToken stop)
    {
        var perOwner = new Dictionary<string, (ClusterMember Member, List<(string Tenant, BlockKey Key)> Blocks)>();
        foreach (var block in _store.ListBlocks())
        {
            foreach (var owner in OtherOwners(block.Key))
            {
                if (!perOwner.TryGetValue(owner.NodeId, out var entry))
                {
                    perOwner[owner.NodeId] = entry = (owner, []);
                }

                entry.Blocks.Add(block);
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(_store.MaxBlockBytes, int.MaxValue));
        var watch = Stopwatch.StartNew();
        long sent = 0;
        try
        {
            foreach (var (owner, blocks) in perOwner.Values)
            {
                foreach (var tenantGroup in blocks.GroupBy(b => b.Tenant))
                {
                    foreach (var chunk in tenantGroup.Chunk(512))
                    {
                        bool[] present;
                        try
                        {
                            present = await Client(owner).ExistsAsync(tenantGroup.Key, chunk.Select(b => b.Key).ToArray(), stop).ConfigureAwait(false);
                        }
                        catch (PeerDataException e)
                        {
                            LogPeerFailed(_logger, owner.NodeId, "repair exists", e.Message);
                            continue;
                        }

                        for (var i = 0; i < chunk.Length; i++)
                        {
                            if (present[i] || _store.Get(chunk[i].Tenant, chunk[i].Key, buffer, out var info) != BlockStatus.Ok)
                            {
                                continue;
                            }

                            if (await PutOnAsync(owner, chunk[i].Tenant, chunk[i].Key, info.Header, buffer.AsMemory(0, (int)info.PayloadLength), null, stop)
                                .ConfigureAwait(false))
                            {
                                _counters.RepairedOne();
                            }

                            // Rate limit: stay behind the configured bytes per second.
                            sent += info.PayloadLength;
                            var due = TimeSpan.FromSeconds((double)sent / _options.RepairBytesPerSecond) - watch.Elapsed;
                            if (due > TimeSpan.Zero)
                            {
                                await Task.Delay(due, stop).ConfigureAwait(false);
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        LogRepaired(_logger, _counters.Repaired);
    }

    // A cheap EXISTS before sending 2 MiB: owners that already hold the block (a write-ack-one copy, a repair that
    // raced) are skipped. An unreachable owner counts as lacking it; the PUT then fails and is counted.
    private async Task<bool> HasAsync(ClusterMember owner, string tenant, BlockKey key, CancellationToken cancellationToken)
    {
        try
        {
            return (await Client(owner).ExistsAsync(tenant, [key], cancellationToken).ConfigureAwait(false))[0];
        }
        catch (PeerDataException)
        {
            return false;
        }
    }

    private PeerDataClient Client(ClusterMember member) =>
        _clients.GetOrAdd(member.NodeId + "@" + member.DataEndpoint, _ => new PeerDataClient(ParseEndpoint(member.DataEndpoint), _clientOptions, _logger));

    private void OnViewChanged(ClusterView view)
    {
        var live = view.Live.Select(m => m.NodeId).ToHashSet();
        var lost = _lastLive.Except(live).Any();
        _lastLive = live;
        if (lost)
        {
            ScheduleRepair();
        }

        // Drop clients of members that left; their connections would only time out.
        var known = view.Members.Select(m => m.NodeId + "@" + m.DataEndpoint).ToHashSet();
        foreach (var (id, client) in _clients)
        {
            if (!known.Contains(id) && _clients.TryRemove(id, out _))
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

    [LoggerMessage(4302, LogLevel.Warning, "Circuit to peer {NodeId} is {State}")]
    private static partial void LogCircuit(ILogger logger, string nodeId, string state);

    [LoggerMessage(4301, LogLevel.Information, "Re-replication pass done: {Repaired} copies re-created so far")]
    private static partial void LogRepaired(ILogger logger, long repaired);

    [LoggerMessage(4300, LogLevel.Warning, "Peer {NodeId} failed a {Operation}: {Reason}")]
    private static partial void LogPeerFailed(ILogger logger, string nodeId, string operation, string reason);
}
