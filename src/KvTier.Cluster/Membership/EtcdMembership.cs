using System.Collections.Frozen;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Cluster.Membership;

/// <summary>
/// Membership through etcd (<c>--etcd URL</c>). Each node holds <c>/kvtier/&lt;cluster&gt;/members/&lt;node-id&gt;</c>
/// (JSON, see <see cref="EtcdMemberRecord"/>) under a lease it keeps alive; presence means alive, so
/// <see cref="ClusterView.Down"/> is always empty and a node that dies drops out when its lease expires.
/// </summary>
/// <remarks>
/// Join: read the prefix and refuse (<see cref="SeedMismatchException"/>) if any member has another hash-seed fingerprint,
/// then grant a lease, put this node's record under it, and read the prefix again as the first view. A background loop
/// then runs one session at a time: a lease keep-alive stream (a refresh every TTL/3; no answer within the TTL counts
/// as a lost connection) next to a watch of the prefix from the snapshot's revision. When either fails the last view is
/// kept, and the loop retries with jittered exponential backoff (0.25 s doubling to 5 s): it checks the lease (granting
/// a new one if it expired meanwhile), puts the record again, re-reads the prefix and watches from there.
/// <see cref="DisposeAsync"/> stops the loop and revokes the lease, so peers see the node leave at once.
/// <see cref="TimeProvider"/> drives the keep-alive cadence, its answer timeout and the backoff; gRPC deadlines use
/// the wall clock as gRPC requires.
/// </remarks>
public sealed class EtcdMembership : IMembership
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RevokeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly string _url;
    private readonly string _cluster;
    private readonly string _prefix;
    private readonly string _key;
    private readonly string _selfJson;
    private readonly ClusterMember _self;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _ttl;
    private readonly Dictionary<string, ClusterMember> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refusedLogged = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();

    private GrpcChannel? _channel;
    private EtcdClient? _client;
    private Lease.LeaseClient? _leases;
    private Watch.WatchClient? _watches;
    private Task? _loop;
    private long _leaseId;
    private long _watchFrom;
    private int _state;
    private volatile ClusterView _view;

    /// <summary>Creates the membership; nothing connects before <see cref="StartAsync"/>.</summary>
    /// <param name="etcdUrl">The etcd client URL, e.g. <c>http://127.0.0.1:2379</c>.</param>
    /// <param name="clusterName">The cluster name (<c>--cluster</c>); the key prefix is <c>/kvtier/&lt;cluster&gt;/members/</c>.</param>
    /// <param name="self">This node.</param>
    /// <param name="time">Clock for the keep-alive cadence and the retry backoff (default: the system clock).</param>
    /// <param name="logger">Logger (default: none).</param>
    /// <param name="leaseTtl">Lease TTL, whole seconds, at least 1 s (default 5 s): how long a dead node stays listed.</param>
    public EtcdMembership(string etcdUrl, string clusterName, ClusterMember self, TimeProvider? time = null, ILogger? logger = null,
        TimeSpan? leaseTtl = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (!Uri.TryCreate(etcdUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the etcd URL must be http(s)://host:port, e.g. --etcd http://127.0.0.1:2379; got '{etcdUrl}'", nameof(etcdUrl));
        }

        CheckName(clusterName, "cluster name (--cluster)", nameof(clusterName));
        CheckName(self.NodeId, "node id (--node-id)", nameof(self));
        _ttl = leaseTtl ?? TimeSpan.FromSeconds(5);
        if (_ttl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(leaseTtl), _ttl, "the etcd lease TTL must be at least 1 s");
        }

        _url = etcdUrl;
        _cluster = clusterName;
        _self = self;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _prefix = $"/kvtier/{clusterName}/members/";
        _key = _prefix + self.NodeId;
        _selfJson = EtcdMemberRecord.From(self).ToJson();
        _view = ClusterView.Alone(self);
    }

    /// <inheritdoc />
    public ClusterView View => _view;

    /// <inheritdoc />
    public event Action<ClusterView>? Changed;

    /// <summary>The etcd key this node registers under.</summary>
    public string Key => _key;

    private long TtlSeconds => Math.Max(1, (long)Math.Ceiling(_ttl.TotalSeconds));

    /// <inheritdoc />
    /// <exception cref="SeedMismatchException">A registered member has another hash-seed fingerprint; nothing was registered.</exception>
    /// <exception cref="EtcdUnavailableException">etcd could not be reached or refused a request.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("EtcdMembership.StartAsync may be called once, before DisposeAsync");
        }

        Connect();
        try
        {
            var existing = await _client!.GetRangeAsync(_prefix, deadline: Deadline(CallTimeout), cancellationToken: cancellationToken);
            RefuseOnSeedMismatch(existing);
            await RegisterAsync(cancellationToken);
            await SnapshotAsync(cancellationToken);
        }
        catch (Exception e)
        {
            await AbortStartAsync();
            if (e is RpcException rpc && !cancellationToken.IsCancellationRequested)
            {
                throw new EtcdUnavailableException(_url, Describe(rpc), rpc);
            }

            throw;
        }

        EtcdLog.Joined(_logger, _cluster, _url, _self.NodeId, _leaseId, TtlSeconds, _view.Members.Count);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops watching and revokes the lease so that peers drop this node at once.</summary>
    public ValueTask DisposeAsync() => StopAsync(revoke: true);

    /// <summary>Test hook: stops like a crashed process (no revoke, keep-alive stops); peers drop it after the TTL.</summary>
    internal async ValueTask SimulateCrashAsync()
    {
        await StopAsync(revoke: false);
        EtcdLog.Abandoned(_logger, _self.NodeId);
    }

    private async ValueTask StopAsync(bool revoke)
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (revoke && _client is not null && _leaseId != 0)
        {
            try
            {
                await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = _leaseId }, deadline: Deadline(RevokeTimeout));
                EtcdLog.Left(_logger, _cluster, _leaseId, _self.NodeId);
            }
            catch (RpcException e)
            {
                EtcdLog.RevokeFailed(_logger, _leaseId, Describe(e));
            }
        }

        CloseChannel();
        _stop.Dispose();
    }

    private void Connect()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = CallTimeout,
            // HTTP/2 pings find a silently dead connection; etcd's default --grpc-keepalive-min-time is 5 s.
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
        };
        _channel = GrpcChannel.ForAddress(_url, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            ThrowOperationCanceledOnCancellation = true,
        });
        var invoker = _channel.CreateCallInvoker();
        _client = new EtcdClient(invoker);
        _leases = new Lease.LeaseClient(invoker);
        _watches = new Watch.WatchClient(invoker);
    }

    private void CloseChannel()
    {
        _client?.Dispose();
        _channel?.Dispose();
        _client = null;
        _channel = null;
    }

    private async Task AbortStartAsync()
    {
        if (_client is not null && _leaseId != 0)
        {
            try
            {
                await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = _leaseId }, deadline: Deadline(RevokeTimeout));
            }
            catch (RpcException)
            {
                // The lease expires by itself after the TTL.
            }
        }

        _leaseId = 0;
        CloseChannel();
    }

    private void RefuseOnSeedMismatch(RangeResponse existing)
    {
        foreach (var kv in existing.Kvs)
        {
            var key = kv.Key.ToStringUtf8();
            if (key == _key)
            {
                continue; // this node's own registration from before a restart: overwritten below
            }

            var record = Parse(key, kv.Value);
            if (record is not null && record.SeedFingerprint != _self.SeedFingerprint)
            {
                throw new SeedMismatchException(record.NodeId, record.SeedFingerprint, _self.SeedFingerprint);
            }
        }
    }

    /// <summary>Makes sure this node holds a live lease and its record is stored under it.</summary>
    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var client = _client!;
        if (_leaseId != 0)
        {
            var left = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = _leaseId }, deadline: Deadline(CallTimeout),
                cancellationToken: cancellationToken);
            if (left.TTL <= 0)
            {
                EtcdLog.LeaseExpired(_logger, _leaseId, _self.NodeId);
                _leaseId = 0;
            }
        }

        if (_leaseId == 0)
        {
            var grant = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = TtlSeconds }, deadline: Deadline(CallTimeout),
                cancellationToken: cancellationToken);
            if (!string.IsNullOrEmpty(grant.Error))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"lease grant failed: {grant.Error}"));
            }

            _leaseId = grant.ID;
        }

        var put = new PutRequest { Key = ByteString.CopyFromUtf8(_key), Value = ByteString.CopyFromUtf8(_selfJson), Lease = _leaseId };
        await client.PutAsync(put, deadline: Deadline(CallTimeout), cancellationToken: cancellationToken);
    }

    /// <summary>Rebuilds the member list from a fresh read of the prefix and publishes it.</summary>
    private async Task SnapshotAsync(CancellationToken cancellationToken)
    {
        var range = await _client!.GetRangeAsync(_prefix, deadline: Deadline(CallTimeout), cancellationToken: cancellationToken);
        _members.Clear();
        foreach (var kv in range.Kvs)
        {
            ApplyPut(kv.Key.ToStringUtf8(), kv.Value);
        }

        _watchFrom = range.Header.Revision + 1;
        Publish();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = MinBackoff;
        var synced = true;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!synced)
                {
                    await RegisterAsync(stop);
                    await SnapshotAsync(stop);
                    synced = true;
                    backoff = MinBackoff;
                    EtcdLog.Reconnected(_logger, _url, _view.Members.Count);
                }

                await RunSessionAsync(stop);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                synced = false;
                var delay = backoff * (0.8 + (0.4 * Random.Shared.NextDouble()));
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                EtcdLog.ConnectionLost(_logger, _url, Describe(e), _view.Members.Count, (long)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _time, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Runs the keep-alive and the watch together until one fails; always ends with an exception.</summary>
    private async Task RunSessionAsync(CancellationToken stop)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var keepAlive = KeepAliveAsync(session.Token);
        var watch = WatchAsync(session.Token);
        var first = await Task.WhenAny(keepAlive, watch);
        await session.CancelAsync();
        await Task.WhenAll(keepAlive, watch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await first;
        throw new SessionLostException("the session ended");
    }

    private async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        using var call = _leases!.LeaseKeepAlive(cancellationToken: cancellationToken);
        var interval = _ttl / 3;
        while (true)
        {
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _leaseId }, cancellationToken);
            using (var timeout = new CancellationTokenSource(_ttl, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                bool answered;
                try
                {
                    answered = await call.ResponseStream.MoveNext(linked.Token);
                }
                catch (Exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new SessionLostException($"no lease keep-alive answer within {_ttl.TotalSeconds:0.#} s");
                }

                if (!answered)
                {
                    throw new SessionLostException("etcd closed the lease keep-alive stream");
                }
            }

            if (call.ResponseStream.Current.TTL <= 0)
            {
                throw new SessionLostException($"lease {_leaseId:x} expired");
            }

            await Task.Delay(interval, _time, cancellationToken);
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var call = _watches!.Watch(cancellationToken: cancellationToken);
        var create = new WatchCreateRequest
        {
            Key = ByteString.CopyFromUtf8(_prefix),
            RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(_prefix)),
            StartRevision = _watchFrom,
        };
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken);
        EtcdLog.Watching(_logger, _prefix, _watchFrom);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var response = call.ResponseStream.Current;
            if (response.Canceled)
            {
                var reason = response.CompactRevision > 0
                    ? $"revision {_watchFrom} was compacted (now {response.CompactRevision})"
                    : response.CancelReason;
                EtcdLog.WatchCanceled(_logger, reason);
                throw new SessionLostException($"watch canceled: {reason}");
            }

            var selfDeleted = false;
            foreach (var change in response.Events)
            {
                var key = change.Kv.Key.ToStringUtf8();
                if (change.Type == Mvccpb.Event.Types.EventType.Put)
                {
                    ApplyPut(key, change.Kv.Value);
                }
                else
                {
                    _members.Remove(key);
                    selfDeleted |= key == _key;
                }

                _watchFrom = change.Kv.ModRevision + 1;
            }

            Publish();
            if (selfDeleted)
            {
                EtcdLog.SelfDeleted(_logger, _key);
                throw new SessionLostException("this node's registration was deleted");
            }
        }

        throw new SessionLostException("etcd closed the watch stream");
    }

    private void ApplyPut(string key, ByteString value)
    {
        var record = Parse(key, value);
        if (record is null)
        {
            _members.Remove(key);
            return;
        }

        if (record.SeedFingerprint != _self.SeedFingerprint)
        {
            _members.Remove(key);
            if (_refusedLogged.Add($"{key}\n{record.SeedFingerprint}"))
            {
                EtcdLog.SeedMismatch(_logger, record.NodeId, record.SeedFingerprint, _self.SeedFingerprint);
            }

            return;
        }

        _members[key] = record.ToMember();
    }

    private EtcdMemberRecord? Parse(string key, ByteString value)
    {
        var record = EtcdMemberRecord.TryParse(value.Span, out var reason);
        if (record is not null && (!key.StartsWith(_prefix, StringComparison.Ordinal) || key[_prefix.Length..] != record.NodeId))
        {
            reason = $"node_id '{record.NodeId}' does not match the key";
            record = null;
        }

        if (record is null)
        {
            EtcdLog.MalformedRecord(_logger, key, reason);
        }

        return record;
    }

    /// <summary>Publishes the member list as a new view (this node always included) if it changed, and raises Changed.</summary>
    private void Publish()
    {
        var members = _members.Values.Where(m => m.NodeId != _self.NodeId).Append(_self)
            .OrderBy(m => m.NodeId, StringComparer.Ordinal).ToArray();
        var old = _view;
        if (old.Members.SequenceEqual(members))
        {
            return;
        }

        var before = old.Members.Select(m => m.NodeId).ToHashSet(StringComparer.Ordinal);
        foreach (var joined in members.Where(m => !before.Contains(m.NodeId) && m.NodeId != _self.NodeId))
        {
            EtcdLog.MemberJoined(_logger, joined.NodeId, joined.GrpcEndpoint, joined.DataEndpoint);
        }

        var after = members.Select(m => m.NodeId).ToHashSet(StringComparer.Ordinal);
        foreach (var left in old.Members.Where(m => !after.Contains(m.NodeId)))
        {
            EtcdLog.MemberLeft(_logger, left.NodeId);
        }

        var view = new ClusterView(_self, members, FrozenSet<string>.Empty, old.Version + 1);
        _view = view;
        if (Changed is { } handlers)
        {
            foreach (var handler in handlers.GetInvocationList().Cast<Action<ClusterView>>())
            {
                try
                {
                    handler(view);
                }
                catch (Exception e)
                {
                    EtcdLog.HandlerFailed(_logger, e);
                }
            }
        }
    }

    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    private static DateTime Deadline(TimeSpan timeout) => DateTime.UtcNow + timeout;

    private static string Describe(Exception e) => e switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.Message,
    };

    private static void CheckName(string value, string what, string parameter)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"the {what} must be non-empty and contain no '/'; got '{value}'", parameter);
        }
    }

    /// <summary>The etcd session (keep-alive or watch) ended; the loop resynchronizes.</summary>
    private sealed class SessionLostException(string message) : Exception(message);
}
