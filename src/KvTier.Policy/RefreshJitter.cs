namespace KvTier.Policy;

/// <summary>
/// Spreads retention refreshes: each interval is the nominal one ± a fraction, drawn from a seeded generator.
/// Without it, blocks written together (one long prompt, a deploy) refresh together forever, and their refresh
/// traffic arrives in synchronised bursts. Seeded so that a run can be reproduced; thread-safe.
/// </summary>
public sealed class RefreshJitter
{
    private readonly Random _random;
    private readonly Lock _lock = new();

    /// <summary>Jitter of ± <paramref name="fraction"/> (in [0, 1)) of each interval, from <paramref name="seed"/>.</summary>
    public RefreshJitter(double fraction, int seed)
    {
        if (!(fraction >= 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the jitter fraction must be in [0, 1); 0.1 means ±10 %.");
        }

        Fraction = fraction;
        _random = new Random(seed);
    }

    /// <summary>The jitter fraction.</summary>
    public double Fraction { get; }

    /// <summary>The next interval: uniform in [interval × (1 − fraction), interval × (1 + fraction)).</summary>
    public TimeSpan Next(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        double u;
        lock (_lock)
        {
            u = _random.NextDouble();
        }

        return interval * (1 + (Fraction * ((2 * u) - 1)));
    }
}
