using KvTier.Core;

namespace KvTier.Policy;

/// <summary>
/// KvTier's retention for a log-structured store, where blocks leave in the order they were written: before the head
/// passes a block, the store asks <see cref="Keep"/> whether to copy it to the tail. The judge learns the same reuse
/// classes as <see cref="KvTierRetention"/> (from the lookups and puts it is told of) and keeps a block while its age
/// per unit of reuse probability is under one trip through the log at the mean rate. Every block makes one trip (a log
/// has no earlier exit); an untouched block of an average class then leaves (FIFO), one of a class twice as likely to
/// be reused makes about two, and a block touched late in its trip goes round again. This is the age / p̂ rule of
/// <see cref="KvTierRetention"/> with the log's trip as its time step. Thread-safe: one lock, held for bookkeeping only.
/// </summary>
/// <remarks>
/// Keys carry no tenant: two tenants' records of one key share a verdict (a lookup by either keeps both), which only
/// happens when both send the same chain unsalted; the store keeps their bytes apart regardless.
/// Bookkeeping is bounded by <c>trackedBlocks</c>: at most that many held blocks (beyond it the least recently touched
/// are let go, as a store whose blocks left without asking, through a TTL or the SSD tier, would), remembered
/// evictions up to <see cref="KvTierRetentionOptions.GhostRatio"/> × the blocks held (a store's block count moves with
/// block sizes), and as many pending classes of blocks a lookup missed and a put has not yet stored.
/// </remarks>
public sealed class RetentionJudge
{
    private readonly Lock _lock = new();
    private readonly Dictionary<BlockKey, RetentionEntry<BlockKey>> _held = [];
    private readonly RetentionList<BlockKey> _byTouch = new();
    private readonly Dictionary<BlockKey, RetentionEntry<BlockKey>> _pending = [];
    private readonly RetentionList<BlockKey> _pendingOrder = new();
    private readonly GhostList<BlockKey> _ghost;
    private readonly ReuseRates _rates;
    private readonly double _ghostRatio;
    private readonly int _tracked;
    private long _clock;
    private long _kept;
    private long _letGo;

    /// <summary>Creates a judge that tracks at most <paramref name="trackedBlocks"/> blocks.</summary>
    public RetentionJudge(int trackedBlocks, KvTierRetentionOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trackedBlocks);
        options ??= new KvTierRetentionOptions();
        options.Validate();
        _tracked = trackedBlocks;
        _rates = new ReuseRates(options.PriorStrength);
        _ghostRatio = options.GhostRatio;
        _ghost = new GhostList<BlockKey>(0);
    }

    /// <summary>Blocks the judge holds bookkeeping for.</summary>
    public int Held
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Lookup misses waiting for their put, and evictions remembered (for tests of the bounds).</summary>
    internal (int Pending, int Ghosts) Bookkeeping
    {
        get
        {
            lock (_lock)
            {
                return (_pending.Count, _ghost.Count);
            }
        }
    }

    /// <summary>Blocks <see cref="Keep"/> said to copy forward.</summary>
    public long Kept => Volatile.Read(ref _kept);

    /// <summary>Blocks <see cref="Keep"/> let go.</summary>
    public long LetGo => Volatile.Read(ref _letGo);

    /// <summary>
    /// A lookup of <paramref name="chain"/> found its first <paramref name="hit"/> blocks: they are touched (deepest
    /// first, so a chain's root is its most recent), and the blocks after them get their class for when they are put.
    /// </summary>
    public void Looked(ReadOnlySpan<BlockKey> chain, int hit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hit, chain.Length);
        lock (_lock)
        {
            var newClass = RetentionClasses.New(hit, chain.Length - hit);
            for (var i = chain.Length - 1; i >= hit; i--)
            {
                var key = chain[i];
                if (_held.ContainsKey(key) || _pending.ContainsKey(key))
                {
                    continue;
                }

                if (_ghost.Remove(key, out var entry))
                {
                    _rates.Reused(entry); // evicted, and asked for again: a reuse a longer stay would have served
                }
                else
                {
                    entry = new RetentionEntry<BlockKey>(key) { Class = newClass };
                }

                _pending.Add(key, entry);
                _pendingOrder.AddLast(entry);
            }

            for (var i = hit - 1; i >= 0; i--)
            {
                _clock++;
                if (_held.TryGetValue(chain[i], out var entry))
                {
                    _byTouch.Remove(entry);
                    _rates.Reused(entry);
                }
                else
                {
                    // Found in the store but not known here (a restart, or a block the judge already let go that the
                    // SSD tier still had): from now on it is tracked as seen once.
                    entry = _ghost.Remove(chain[i], out var gone) ? gone : new RetentionEntry<BlockKey>(chain[i]);
                    entry.Written = _clock; // where it sits in the log is unknown: count its trip from now
                    _rates.Reused(entry);
                    _held.Add(chain[i], entry);
                }

                Touch(entry);
            }

            TrimPending();
            TrimHeld();
        }
    }

    /// <summary>Block <paramref name="key"/> was written to the log's tail by a put.</summary>
    public void Stored(in BlockKey key)
    {
        lock (_lock)
        {
            _clock++;
            if (_held.TryGetValue(key, out var entry))
            {
                _byTouch.Remove(entry);
            }
            else
            {
                entry = TakePending(key, out var pending) ? pending
                    : _ghost.Remove(key, out var gone) ? gone
                    : new RetentionEntry<BlockKey>(key) { Class = RetentionClasses.New(0, 1) };
                _held.Add(key, entry);
            }

            entry.Written = _clock;
            Touch(entry);
            TrimHeld();
        }
    }

    /// <summary>
    /// Block <paramref name="key"/> was read: it is as recent as the last access (a read follows the lookup that
    /// counted it, so it renews recency without counting another reuse).
    /// </summary>
    public void Read(in BlockKey key)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(key, out var entry))
            {
                _byTouch.Remove(entry);
                Touch(entry);
            }
        }
    }

    /// <summary>Block <paramref name="key"/> was copied to the log's tail without a put (a read's second chance).</summary>
    public void Moved(in BlockKey key)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(key, out var entry))
            {
                entry.Written = _clock;
            }
        }
    }

    /// <summary>
    /// The log's head is about to pass block <paramref name="key"/>: true to copy it to the tail (the caller then
    /// does), false to let it go. A block the judge does not know is let go, as plain FIFO would.
    /// </summary>
    public bool Keep(in BlockKey key)
    {
        lock (_lock)
        {
            if (!_held.TryGetValue(key, out var entry))
            {
                return false;
            }

            // Its trip through the log (accesses since it was written) is the time step: an untouched block of a class
            // at the mean rate has aged just over one trip, and goes; a class at twice the rate makes two trips.
            var trip = _clock - entry.Written;
            var age = _clock - entry.Touched + 1;
            if (age * _rates.Mean < trip * _rates.Rate(entry.Class))
            {
                entry.Written = _clock;
                _kept++;
                return true;
            }

            _letGo++;
            Evict(entry);
            return false;
        }
    }

    /// <summary>Block <paramref name="key"/> was deleted: its bookkeeping goes without counting for or against its class.</summary>
    public void Forget(in BlockKey key)
    {
        lock (_lock)
        {
            if (_held.Remove(key, out var entry))
            {
                _byTouch.Remove(entry);
            }

            TakePending(key, out _);
            _ghost.Remove(key, out _);
        }
    }

    /// <summary>The learned reuse probability of the class block <paramref name="key"/> is in, or null when not held.</summary>
    internal double? ReuseRateOf(in BlockKey key)
    {
        lock (_lock)
        {
            return _held.TryGetValue(key, out var entry) ? _rates.Rate(entry.Class) : null;
        }
    }

    private void Touch(RetentionEntry<BlockKey> entry)
    {
        entry.Touched = _clock;
        _byTouch.AddLast(entry);
    }

    private void Evict(RetentionEntry<BlockKey> entry)
    {
        _held.Remove(entry.Id);
        _byTouch.Remove(entry);
        // Remembered as a multiple of the blocks held now (a store's block count is not fixed: blocks vary in size).
        _ghost.Capacity = (int)Math.Min(_tracked, Math.Ceiling(_ghostRatio * Math.Max(1, _held.Count)));
        if (_ghost.Add(entry) is { } forgotten)
        {
            _rates.Dropped(forgotten);
        }

        while (_ghost.TrimOne() is { } old)
        {
            _rates.Dropped(old);
        }
    }

    private void TrimHeld()
    {
        while (_held.Count > _tracked)
        {
            Evict(_byTouch.First!);
        }
    }

    private void TrimPending()
    {
        while (_pending.Count > _tracked)
        {
            TakePending(_pendingOrder.First!.Id, out _);
        }
    }

    private bool TakePending(in BlockKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RetentionEntry<BlockKey>? entry)
    {
        if (!_pending.Remove(key, out entry))
        {
            return false;
        }

        _pendingOrder.Remove(entry);
        return true;
    }
}
