namespace KvTier.Policy;

/// <summary>
/// Each retention class's reuse rate, learned online: a success when a block of the class is accessed again while
/// held or remembered, a failure when it is forgotten unused. Rates are shrunk toward the all-class mean by
/// <see cref="KvTierRetentionOptions.PriorStrength"/> pseudo-observations, so a class seen a few times stays near it.
/// </summary>
internal sealed class ReuseRates(double prior)
{
    private readonly long[] _reused = new long[RetentionClasses.Count];
    private readonly long[] _dropped = new long[RetentionClasses.Count];
    private long _reusedTotal;
    private long _droppedTotal;

    /// <summary>The reuse rate of all classes together (Laplace-smoothed).</summary>
    public double Mean => (_reusedTotal + 1.0) / (_reusedTotal + _droppedTotal + 2.0);

    /// <summary>The learned reuse probability of <paramref name="blockClass"/>, shrunk toward <see cref="Mean"/>.</summary>
    public double Rate(int blockClass) => (_reused[blockClass] + (prior * Mean)) / (_reused[blockClass] + _dropped[blockClass] + prior);

    /// <summary>Counts a reuse of <paramref name="entry"/>'s class and moves the entry to its seen-count class.</summary>
    public void Reused<TKey>(RetentionEntry<TKey> entry)
    {
        _reused[entry.Class]++;
        _reusedTotal++;
        entry.Accesses++;
        entry.Class = RetentionClasses.Seen(entry.Accesses);
    }

    /// <summary>Counts a block of <paramref name="entry"/>'s class forgotten without reuse.</summary>
    public void Dropped<TKey>(RetentionEntry<TKey> entry)
    {
        _dropped[entry.Class]++;
        _droppedTotal++;
    }
}
