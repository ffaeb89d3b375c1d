using System.Diagnostics;

namespace KvTier.Bench;

/// <summary>
/// One direction of an emulated link: a token bucket of <c>burst</c> bytes refilled at the line rate, shared by every
/// connection through the link (a link's rate is what all of them get together). Kept as a virtual clock (GCRA): the
/// time at which the bucket would be full again. Thread-safe.
/// </summary>
internal sealed class LinkShaperBucket
{
    private readonly double _ticksPerByte;
    private readonly long _burstTicks;
    private readonly Lock _lock = new();
    private long _full = long.MinValue;

    public LinkShaperBucket(double bytesPerSecond, int burstBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burstBytes);
        BytesPerSecond = bytesPerSecond;
        BurstBytes = burstBytes;
        _ticksPerByte = Stopwatch.Frequency / bytesPerSecond;
        _burstTicks = Ticks(burstBytes);
    }

    public double BytesPerSecond { get; }

    public int BurstBytes { get; }

    /// <summary>
    /// Takes <paramref name="bytes"/> from the bucket and returns the <see cref="Stopwatch"/> timestamp at which they
    /// may leave: <paramref name="now"/> when the bucket holds them, else when it will have refilled enough (a chunk
    /// larger than the burst waits for a full bucket and leaves it in debt). Over any interval T the bytes let through
    /// never exceed max(burst, largest chunk) + rate × T.
    /// </summary>
    public long Depart(int bytes, long now)
    {
        var cost = Ticks(bytes);
        lock (_lock)
        {
            // `_full`: when the bucket is full again. At time t it is short of (full − t) × rate bytes, so `bytes` fit
            // once full − t ≤ (burst − bytes) / rate.
            var full = Math.Max(_full, now);
            var leave = Math.Max(now, full - Math.Max(0, _burstTicks - cost));
            _full = full + cost;
            return leave;
        }
    }

    private long Ticks(int bytes) => (long)Math.Ceiling(bytes * _ticksPerByte);
}
