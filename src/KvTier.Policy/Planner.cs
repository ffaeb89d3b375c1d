using System.Globalization;

namespace KvTier.Policy;

/// <summary>
/// Decides, per request, whether to fetch the cached prefix, recompute it, or fetch part and recompute the rest:
/// the plan with the lowest expected time to first token, fetching only when that saves at least
/// <see cref="PolicyOptions.MinSavingMs"/> on a prefix of at least <see cref="PolicyOptions.MinFetchTokens"/>.
/// Pure: reads the cost model, does no I/O; thread-safe as the cost model is.
/// </summary>
public sealed class Planner
{
    /// <summary>A planner over <paramref name="cost"/> with <paramref name="options"/> (defaults when null).</summary>
    public Planner(CostModel cost, PolicyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cost);
        Options = options ?? new PolicyOptions();
        Options.Validate();
        Cost = cost;
    }

    /// <summary>The cost model the plans read.</summary>
    public CostModel Cost { get; }

    /// <summary>The thresholds.</summary>
    public PolicyOptions Options { get; }

    /// <summary>
    /// Evaluates recompute-all, fetch-all and every split (fetch the first j blocks, recompute the rest) and returns
    /// the lowest expected TTFT that passes the thresholds.
    /// </summary>
    /// <exception cref="ArgumentException">The request is inconsistent (empty prompt, runs longer than the chain).</exception>
    public Plan Choose(PlanRequest request) => PrefixScan.Run(Cost, Options, request);

    /// <summary>
    /// For a request whose prefix another engine is computing right now (<paramref name="lease"/> says
    /// <see cref="LeaseStatus.BeingComputed"/>): wait for it and then fetch, or go ahead now. Waiting costs the
    /// holder's remaining ETA plus the best plan once its blocks are cached (<paramref name="whenReady"/>); going
    /// ahead costs the best plan now (<paramref name="now"/>). Waits when that is within
    /// <see cref="PolicyOptions.WaitToleranceRatio"/> of going ahead. A holder past its ETA counts as about to finish
    /// while it is late by less than <see cref="PolicyOptions.OverdueGraceRatio"/> of going ahead; later than that
    /// it may be gone, and the waiter goes ahead.
    /// </summary>
    /// <exception cref="ArgumentException">The lease was acquired (the caller is the holder: it computes).</exception>
    public WaitDecision DecideWait(PlanRequest now, PlanRequest whenReady, LeaseResult lease)
    {
        if (lease.Status != LeaseStatus.BeingComputed)
        {
            throw new ArgumentException("the lease was acquired: its holder computes the prefix, it does not wait.", nameof(lease));
        }

        var proceed = Choose(now);
        var grace = proceed.ChosenTtftMs * Options.OverdueGraceRatio;
        var late = lease.OverdueBy.TotalMilliseconds;
        if (lease.EtaOverdue && late >= grace)
        {
            return new WaitDecision(false, double.PositiveInfinity, proceed.ChosenTtftMs, proceed,
                $"proceed: holder {lease.Holder} is {Ms(late)} past its ETA, over the {Ms(grace)} grace: it may be gone ({proceed.Reason})");
        }

        var ready = Choose(whenReady);
        // Within the grace a late holder is taken to finish by the grace's end.
        var remaining = lease.EtaOverdue ? grace - late : lease.EtaRemaining.TotalMilliseconds;
        var wait = remaining + ready.ChosenTtftMs;
        var limit = proceed.ChosenTtftMs * Options.WaitToleranceRatio;
        var shouldWait = wait <= limit;
        var reason = shouldWait
            ? $"wait for {lease.Holder}: {Ms(remaining)} then {Ms(ready.ChosenTtftMs)} = {Ms(wait)}, within {Options.WaitToleranceRatio.ToString(CultureInfo.InvariantCulture)}× of {Ms(proceed.ChosenTtftMs)} now"
            : $"proceed: waiting for {lease.Holder} takes {Ms(wait)}, over {Options.WaitToleranceRatio.ToString(CultureInfo.InvariantCulture)}× of {Ms(proceed.ChosenTtftMs)} now ({proceed.Reason})";
        return new WaitDecision(shouldWait, wait, proceed.ChosenTtftMs, proceed, reason);
    }

    /// <summary>Starts the deadline clock of a fetch that begins now.</summary>
    public FetchDeadline StartFetch(Plan plan, TimeProvider time) => FetchDeadline.Start(plan, time, Options);

    private static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}

/// <summary>A waiter's choice: wait for the in-flight prefill then fetch, or go ahead now with <paramref name="ProceedPlan"/>.</summary>
/// <param name="Wait">True: wait for the holder, then plan again (its blocks will be cached).</param>
/// <param name="WaitTtftMs">Expected TTFT when waiting: the holder's remaining ETA plus the plan once cached.</param>
/// <param name="ProceedTtftMs">Expected TTFT going ahead now.</param>
/// <param name="ProceedPlan">The plan to run when not waiting.</param>
/// <param name="Reason">A short human reason.</param>
public sealed record WaitDecision(bool Wait, double WaitTtftMs, double ProceedTtftMs, Plan ProceedPlan, string Reason);
