namespace KvTier.Policy;

/// <summary>Tuning for <see cref="KvTierRetention"/>. The defaults are structural choices, not fits to a trace.</summary>
public sealed class KvTierRetentionOptions
{
    /// <summary>
    /// Evicted keys remembered (keys and class only, no KV), as a multiple of the capacity. Default 1.0, ARC's
    /// choice: a reuse within one more cache-full of traffic is one a slightly larger cache would have served, so it
    /// counts as a success for the block's class and returns the key with its access count; one older is a miss.
    /// </summary>
    public double GhostRatio { get; init; } = 1.0;

    /// <summary>
    /// Pseudo-observations, at the mean reuse rate of all classes, that each class starts with. Default 4: enough to
    /// keep a class seen a handful of times from swinging to 0 or 1, small beside the thousands a class collects.
    /// </summary>
    public double PriorStrength { get; init; } = 4.0;

    /// <summary>The ghost list's length for a policy of <paramref name="capacity"/> blocks.</summary>
    internal int GhostCapacity(int capacity) => (int)Math.Min(int.MaxValue, Math.Ceiling(GhostRatio * capacity));

    internal void Validate()
    {
        if (!(GhostRatio >= 0) || double.IsInfinity(GhostRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(GhostRatio), GhostRatio, "must be a finite number >= 0");
        }

        if (!(PriorStrength > 0) || double.IsInfinity(PriorStrength))
        {
            throw new ArgumentOutOfRangeException(nameof(PriorStrength), PriorStrength, "must be a finite number > 0");
        }
    }
}
