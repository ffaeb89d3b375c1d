namespace KvTier.Policy;

/// <summary>
/// The deadline of one fetch: the plan's fetch estimate × <see cref="PolicyOptions.DeadlineSlack"/> +
/// <see cref="PolicyOptions.DeadlineGraceMs"/>, counted from the start on an injected clock. A fetch that runs
/// past it hands its remaining blocks back to recompute: a slow or stalled source must not hold the first token
/// hostage, and the engine can prefill what is missing on top of what already arrived.
/// </summary>
public sealed class FetchDeadline
{
    private readonly TimeProvider _time;
    private readonly long _started;

    private FetchDeadline(Plan plan, TimeProvider time, long started, TimeSpan budget)
    {
        Plan = plan;
        _time = time;
        _started = started;
        Budget = budget;
    }

    /// <summary>The plan being fetched.</summary>
    public Plan Plan { get; }

    /// <summary>How long the fetch may take from its start (zero when the plan fetches nothing).</summary>
    public TimeSpan Budget { get; }

    /// <summary>Starts the clock at <paramref name="startedAt"/> (a <see cref="TimeProvider.GetTimestamp"/> value), or now.</summary>
    public static FetchDeadline Start(Plan plan, TimeProvider time, PolicyOptions? options = null, long? startedAt = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(time);
        options ??= new PolicyOptions();
        options.Validate();
        var budget = plan.FetchBlocks == 0
            ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds((plan.FetchMs * options.DeadlineSlack) + options.DeadlineGraceMs);
        return new FetchDeadline(plan, time, startedAt ?? time.GetTimestamp(), budget);
    }

    /// <summary>
    /// Where the fetch stands with <paramref name="blocksDone"/> leading blocks arrived: whether to hand the rest
    /// back now, which blocks, and how long until the deadline (arm a timer for it).
    /// </summary>
    public HandBack Check(int blocksDone)
    {
        if ((uint)blocksDone > (uint)Plan.FetchBlocks)
        {
            throw new ArgumentOutOfRangeException(nameof(blocksDone), blocksDone, $"blocksDone must be in [0, {Plan.FetchBlocks}].");
        }

        var elapsed = _time.GetElapsedTime(_started);
        var remaining = Plan.FetchBlocks - blocksDone;
        var overdue = remaining > 0 && elapsed > Budget;
        var left = Budget - elapsed;
        return new HandBack(overdue, blocksDone, remaining, elapsed, left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }
}

/// <summary>A fetch's standing against its deadline.</summary>
/// <param name="Now">Hand the remaining blocks back to recompute now.</param>
/// <param name="FirstRemainingBlock">The first block not yet arrived.</param>
/// <param name="RemainingBlocks">Blocks not yet arrived (they and everything after them are recomputed).</param>
/// <param name="Elapsed">Time since the fetch started.</param>
/// <param name="UntilDeadline">Time left before the deadline (zero once past).</param>
public readonly record struct HandBack(bool Now, int FirstRemainingBlock, int RemainingBlocks, TimeSpan Elapsed, TimeSpan UntilDeadline);
