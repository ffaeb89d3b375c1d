using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvTier.Cluster.Membership;

/// <summary>
/// Static membership (<c>--peers</c>): the gRPC endpoints of every member are configured; each is probed for its
/// identity (node id, data endpoint, seed fingerprint) at start and then periodically. A member that stops answering is
/// marked down after <see cref="FailuresBeforeDown"/> missed probes and up again when it answers.
/// </summary>
public sealed partial class StaticMembership : IMembership
{
    /// <summary>Consecutive failed probes before a member is marked down.</summary>
    public const int FailuresBeforeDown = 2;

    private readonly ClusterMember _self;
    private readonly IReadOnlyList<string> _endpoints;
    private readonly Func<string, CancellationToken, Task<ClusterMember>> _probe;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Dictionary<string, (ClusterMember? Member, int Failures)> _state = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private Task _loop = Task.CompletedTask;
    private ClusterView _view;

    /// <summary>Creates the membership; <paramref name="probe"/> asks one endpoint for its identity.</summary>
    public StaticMembership(ClusterMember self, IReadOnlyList<string> peerEndpoints, Func<string, CancellationToken, Task<ClusterMember>> probe,
        TimeSpan? interval = null, TimeProvider? time = null, ILogger? logger = null)
    {
        _self = self;
        _endpoints = peerEndpoints;
        _probe = probe;
        _interval = interval ?? TimeSpan.FromSeconds(1);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _view = ClusterView.Alone(self);
    }

    /// <inheritdoc/>
    public ClusterView View => Volatile.Read(ref _view);

    /// <inheritdoc/>
    public event Action<ClusterView>? Changed;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A longer first probe: the seed check at join must not be skipped because a busy peer (or this node's own
        // cold start) took more than the periodic probe's 2 s to answer.
        await ProbeAllAsync(cancellationToken, StartProbeTimeout).ConfigureAwait(false);
        _loop = LoopAsync(_stop.Token);
    }

    /// <summary>How long the probes at start wait for each peer.</summary>
    public static readonly TimeSpan StartProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Probes every endpoint once (also what the background loop does each interval).</summary>
    public Task ProbeAllAsync(CancellationToken cancellationToken) => ProbeAllAsync(cancellationToken, TimeSpan.FromSeconds(2));

    private async Task ProbeAllAsync(CancellationToken cancellationToken, TimeSpan probeTimeout)
    {
        var probes = _endpoints.Select(async endpoint =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(probeTimeout);
                return (endpoint, Member: await _probe(endpoint, timeout.Token).ConfigureAwait(false), Error: (Exception?)null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return (endpoint, Member: (ClusterMember?)null, Error: e);
            }
        }).ToArray();
        var results = await Task.WhenAll(probes).ConfigureAwait(false);
        foreach (var (_, member, _) in results)
        {
            if (member is not null && member.NodeId != _self.NodeId && member.SeedFingerprint != _self.SeedFingerprint)
            {
                throw new SeedMismatchException(member.NodeId, member.SeedFingerprint, _self.SeedFingerprint);
            }
        }

        Update(results.Select(r => (r.endpoint, r.Member, r.Error)).ToArray());
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(_interval, _time, stop).ConfigureAwait(false);
            try
            {
                await ProbeAllAsync(stop).ConfigureAwait(false);
            }
            catch (SeedMismatchException e)
            {
                // A member restarted with another seed: keep serving, but it is not part of this cluster.
                LogMismatch(_logger, e.NodeId, e.Message);
            }
        }
    }

    private void Update((string Endpoint, ClusterMember? Member, Exception? Error)[] results)
    {
        ClusterView? changed = null;
        lock (_lock)
        {
            foreach (var (endpoint, member, error) in results)
            {
                var (known, failures) = _state.GetValueOrDefault(endpoint);
                if (member is not null)
                {
                    if (member.NodeId != _self.NodeId && (known is null || failures >= FailuresBeforeDown))
                    {
                        LogUp(_logger, member.NodeId, endpoint);
                    }

                    _state[endpoint] = (member, 0);
                }
                else
                {
                    if (failures + 1 == FailuresBeforeDown)
                    {
                        if (known is not null)
                        {
                            LogDown(_logger, known.NodeId, endpoint, error?.Message ?? "no answer");
                        }
                        else
                        {
                            // Never answered since start: often a wrong address (a peer's data port, not its gRPC one).
                            LogNeverAnswered(_logger, endpoint, FailuresBeforeDown, error?.Message ?? "no answer");
                        }
                    }

                    _state[endpoint] = (known, failures + 1);
                }
            }

            var members = _state.Values.Where(s => s.Member is not null && s.Member.NodeId != _self.NodeId)
                .Select(s => s.Member!).Append(_self).DistinctBy(m => m.NodeId).OrderBy(m => m.NodeId, StringComparer.Ordinal).ToArray();
            var down = _state.Values.Where(s => s.Member is not null && s.Failures >= FailuresBeforeDown).Select(s => s.Member!.NodeId).ToHashSet();
            var current = View;
            if (!members.SequenceEqual(current.Members) || !down.SetEquals(current.Down))
            {
                changed = new ClusterView(_self, members, down, current.Version + 1);
                Volatile.Write(ref _view, changed);
            }
        }

        if (changed is not null)
        {
            Changed?.Invoke(changed);
        }
    }

    [LoggerMessage(4200, LogLevel.Information, "Member {NodeId} at {Endpoint} is up")]
    private static partial void LogUp(ILogger logger, string nodeId, string endpoint);

    [LoggerMessage(4201, LogLevel.Warning, "Member {NodeId} at {Endpoint} is down: {Reason}")]
    private static partial void LogDown(ILogger logger, string nodeId, string endpoint, string reason);

    [LoggerMessage(4202, LogLevel.Error, "Member {NodeId} is not part of this cluster: {Reason}")]
    private static partial void LogMismatch(ILogger logger, string nodeId, string reason);

    [LoggerMessage(4203, LogLevel.Warning,
        "Peer {Endpoint} (--peers) has not answered its first {Probes} probes: {Reason}. --peers lists the other nodes' gRPC --listen addresses")]
    private static partial void LogNeverAnswered(ILogger logger, string endpoint, int probes, string reason);
}
