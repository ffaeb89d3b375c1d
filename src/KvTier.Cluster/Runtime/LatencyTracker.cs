namespace KvTier.Cluster.Runtime;

/// <summary>
/// A running p95 of remote fetch latency over the last 256 fetches: the hedge delay (a second replica is asked only
/// when the first is slower than most fetches are).
/// </summary>
internal sealed class LatencyTracker(TimeSpan initial)
{
    private readonly double[] _samples = new double[256];
    private readonly Lock _lock = new();
    private int _count;
    private int _next;

    public void Add(TimeSpan latency)
    {
        lock (_lock)
        {
            _samples[_next] = latency.TotalMilliseconds;
            _next = (_next + 1) % _samples.Length;
            _count = Math.Min(_count + 1, _samples.Length);
        }
    }

    public TimeSpan P95
    {
        get
        {
            lock (_lock)
            {
                if (_count < 20)
                {
                    return initial;
                }

                var sorted = _samples.AsSpan(0, _count).ToArray();
                Array.Sort(sorted);
                return TimeSpan.FromMilliseconds(Math.Max(1, sorted[(int)(0.95 * (_count - 1))]));
            }
        }
    }
}
