using KvTier.Core;

namespace KvTier.Policy;

/// <summary>What <see cref="InflightLeases.TryAcquire"/> found.</summary>
public enum LeaseStatus
{
    /// <summary>The caller holds the lease: it computes the prefix.</summary>
    Acquired,
    /// <summary>Someone else is computing the prefix.</summary>
    BeingComputed,
}

/// <summary>The answer to a lease request.</summary>
/// <param name="Status">Acquired, or being computed by <paramref name="Holder"/>.</param>
/// <param name="Holder">Who holds the lease (the caller when acquired).</param>
/// <param name="EtaRemaining">Time until the holder expects the prefix to be cached (zero once past).</param>
/// <param name="EtaOverdue">The holder is past its ETA but still renewing (slow, or about to expire).</param>
/// <param name="ExpiresIn">Time until the lease lapses unless renewed.</param>
/// <param name="OverdueBy">How far past its ETA the holder is (zero while on time).</param>
public readonly record struct LeaseResult(LeaseStatus Status, string Holder, TimeSpan EtaRemaining, bool EtaOverdue, TimeSpan ExpiresIn, TimeSpan OverdueBy = default);

/// <summary>
/// Single-flight for prefix prefills across the fleet, kept by the prefix's owner node: the first engine to miss a
/// prefix takes a lease on it and computes; everyone else is told "being computed, ETA t" and may wait then fetch
/// (<see cref="Planner.DecideWait"/>) instead of prefilling the same tokens again. A lease lapses after its TTL
/// unless the holder renews it, so a holder that dies frees the prefix without anyone noticing the death.
/// A pure state machine on an injected clock; thread-safe.
/// </summary>
public sealed class InflightLeases
{
    // Expired leases are dropped when touched; a full sweep every so many acquisitions bounds what is never touched again.
    private const int SweepEvery = 1024;

    private readonly TimeProvider _time;
    private readonly Dictionary<BlockKey, Lease> _leases = [];
    private readonly Lock _lock = new();
    private int _sinceSweep;

    /// <summary>Leases that lapse <paramref name="ttl"/> after they are taken or last renewed.</summary>
    public InflightLeases(TimeProvider time, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        _time = time;
        Ttl = ttl;
    }

    /// <summary>How long a lease lives without renewal.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Live and not yet swept leases.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _leases.Count;
            }
        }
    }

    /// <summary>
    /// Takes the lease on <paramref name="prefix"/> (the key of its last block, which names the whole chain) for
    /// <paramref name="holder"/>, who expects to have it cached within <paramref name="eta"/>. Acquired when free,
    /// lapsed, or already the caller's (a retry renews it); otherwise who is computing it and how long is left.
    /// </summary>
    public LeaseResult TryAcquire(BlockKey prefix, string holder, TimeSpan eta)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        ArgumentOutOfRangeException.ThrowIfLessThan(eta, TimeSpan.Zero);
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (++_sinceSweep >= SweepEvery)
            {
                SweepLocked(now);
            }

            if (_leases.TryGetValue(prefix, out var lease) && !lease.ExpiredAt(now, _time))
            {
                if (lease.Holder != holder)
                {
                    return Describe(lease, LeaseStatus.BeingComputed, now);
                }

                lease = lease with { StartedAt = now, RenewedAt = now, Eta = eta }; // a retry renews it; its waiters keep waiting
            }
            else
            {
                lease?.End(); // lapsed: whoever waited on it hears it is over
                lease = new Lease(holder, now, now, eta, Ttl);
            }

            _leases[prefix] = lease;
            return Describe(lease, LeaseStatus.Acquired, now);
        }
    }

    /// <summary>
    /// Extends the holder's lease by another TTL from now, optionally with a new ETA from now. False when the lease
    /// is not the holder's any more (it lapsed and perhaps went to someone else): stop, someone else computes.
    /// </summary>
    public bool Renew(BlockKey prefix, string holder, TimeSpan? eta = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (!TryGetLive(prefix, now, out var lease) || lease.Holder != holder)
            {
                return false;
            }

            _leases[prefix] = eta is { } newEta
                ? lease with { StartedAt = now, RenewedAt = now, Eta = newEta < TimeSpan.Zero ? TimeSpan.Zero : newEta }
                : lease with { RenewedAt = now };
            return true;
        }
    }

    /// <summary>Ends the holder's lease (the prefix is cached, or the prefill failed). False when it was not the holder's.</summary>
    public bool Release(BlockKey prefix, string holder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        lock (_lock)
        {
            if (!TryGetLive(prefix, _time.GetTimestamp(), out var lease) || lease.Holder != holder)
            {
                return false;
            }

            _leases.Remove(prefix);
            lease.End();
            return true;
        }
    }

    /// <summary>
    /// Waits until the lease on <paramref name="prefix"/> ends (its holder releases it, or stops renewing and it
    /// lapses) or <paramref name="maxWait"/> passes: null once there is no live lease (look the prefix up: it is cached,
    /// or the holder gave up), else the lease as it stands then. A waiter learns of the release at once instead of
    /// polling on the ETA.
    /// </summary>
    public async Task<LeaseResult?> WaitAsync(BlockKey prefix, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        var started = _time.GetTimestamp();
        while (true)
        {
            Task ended;
            TimeSpan wait;
            lock (_lock)
            {
                var now = _time.GetTimestamp();
                if (!TryGetLive(prefix, now, out var lease))
                {
                    return null;
                }

                var left = maxWait - _time.GetElapsedTime(started, now);
                if (left <= TimeSpan.Zero)
                {
                    return Describe(lease, LeaseStatus.BeingComputed, now);
                }

                // Wake at the release, at the lapse (no event marks it: check again then), or at the caller's limit.
                var expiresIn = lease.Ttl - _time.GetElapsedTime(lease.RenewedAt, now);
                wait = expiresIn < left ? expiresIn : left;
                ended = lease.Ended.Task;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(wait, _time, timeout.Token);
            await Task.WhenAny(ended, delay).ConfigureAwait(false);
            await timeout.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The live lease on <paramref name="prefix"/>, as a waiter would see it; null when there is none.</summary>
    public LeaseResult? Find(BlockKey prefix)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            return TryGetLive(prefix, now, out var lease) ? Describe(lease, LeaseStatus.BeingComputed, now) : null;
        }
    }

    /// <summary>Drops every lapsed lease; returns how many.</summary>
    public int Sweep()
    {
        lock (_lock)
        {
            return SweepLocked(_time.GetTimestamp());
        }
    }

    private int SweepLocked(long now)
    {
        _sinceSweep = 0;
        var removed = 0;
        foreach (var (key, lease) in _leases)
        {
            if (lease.ExpiredAt(now, _time) && _leases.Remove(key))
            {
                lease.End();
                removed++;
            }
        }

        return removed;
    }

    private bool TryGetLive(BlockKey prefix, long now, out Lease lease)
    {
        if (!_leases.TryGetValue(prefix, out lease!))
        {
            return false;
        }

        if (lease.ExpiredAt(now, _time))
        {
            _leases.Remove(prefix);
            lease.End();
            return false;
        }

        return true;
    }

    private LeaseResult Describe(Lease lease, LeaseStatus status, long now)
    {
        var etaLeft = lease.Eta - _time.GetElapsedTime(lease.StartedAt, now);
        var expiresIn = lease.Ttl - _time.GetElapsedTime(lease.RenewedAt, now);
        return new LeaseResult(
            status, lease.Holder, etaLeft > TimeSpan.Zero ? etaLeft : TimeSpan.Zero, etaLeft < TimeSpan.Zero, expiresIn,
            etaLeft < TimeSpan.Zero ? -etaLeft : TimeSpan.Zero);
    }

    /// <summary>
    /// One lease: ETA counts from <see cref="StartedAt"/>, the TTL from the last renewal. Renewals copy it and keep
    /// <see cref="Ended"/>, which completes once the lease is released or found lapsed.
    /// </summary>
    private sealed record Lease(string Holder, long StartedAt, long RenewedAt, TimeSpan Eta, TimeSpan Ttl)
    {
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool ExpiredAt(long now, TimeProvider time) => time.GetElapsedTime(RenewedAt, now) >= Ttl;

        public void End() => Ended.TrySetResult();
    }
}
