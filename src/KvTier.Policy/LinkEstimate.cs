namespace KvTier.Policy;

/// <summary>The cost model's current view of one source.</summary>
/// <param name="Source">The source.</param>
/// <param name="Setup">Fixed software cost per fetch.</param>
/// <param name="Rtt">Round trip (learned: the fixed cost of a transfer beyond <paramref name="Setup"/>).</param>
/// <param name="BandwidthBytesPerSecond">Payload bandwidth.</param>
/// <param name="Observations">Transfers observed so far.</param>
/// <param name="LearnedWeight">
/// How much of this estimate comes from observations rather than the prior, in [0, 1]: grows with each transfer,
/// shrinks while the source goes unobserved.
/// </param>
/// <param name="IsDown">Marked down: never planned, infinite cost.</param>
public sealed record LinkEstimate(
    FetchSource Source, TimeSpan Setup, TimeSpan Rtt, double BandwidthBytesPerSecond, int Observations, double LearnedWeight, bool IsDown)
{
    /// <summary>Milliseconds to fetch <paramref name="bytes"/>: setup + rtt + bytes / bandwidth; infinity when down.</summary>
    public double FetchMs(double bytes) => IsDown
        ? double.PositiveInfinity
        : Setup.TotalMilliseconds + Rtt.TotalMilliseconds + (bytes / BandwidthBytesPerSecond * 1e3);
}
