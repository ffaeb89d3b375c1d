using Prometheus;

namespace KvTier.Server.Operations;

/// <summary>
/// Hit rate by conversation turn: per bucket (0, 1, 2-3, 4-7, 8+) the cached-prefix blocks and the looked-up blocks
/// since start, counted lock-free per Lookup and published as a ratio on scrape (0 for a bucket with no lookups yet).
/// </summary>
internal sealed class TurnHitRates
{
    /// <summary>The bucket labels, in order.</summary>
    public static readonly string[] Buckets = ["0", "1", "2-3", "4-7", "8+"];

    private readonly Gauge.Child[] _gauges;
    private readonly long[] _hits = new long[5];
    private readonly long[] _blocks = new long[5];

    public TurnHitRates(Gauge gauge) => _gauges = [.. Buckets.Select(b => gauge.WithLabels(b))];

    /// <summary>The bucket index of <paramref name="turn"/>.</summary>
    public static int BucketOf(uint turn) => turn switch
    {
        0 => 0,
        1 => 1,
        <= 3 => 2,
        <= 7 => 3,
        _ => 4,
    };

    public void Record(uint turn, int hitBlocks, int chainBlocks)
    {
        var bucket = BucketOf(turn);
        Interlocked.Add(ref _hits[bucket], hitBlocks);
        Interlocked.Add(ref _blocks[bucket], chainBlocks);
    }

    public void Publish()
    {
        for (var i = 0; i < _gauges.Length; i++)
        {
            var blocks = Volatile.Read(ref _blocks[i]);
            _gauges[i].Set(blocks == 0 ? 0 : (double)Volatile.Read(ref _hits[i]) / blocks);
        }
    }
}
