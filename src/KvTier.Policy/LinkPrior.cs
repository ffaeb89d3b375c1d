namespace KvTier.Policy;

/// <summary>
/// What a link costs before (or long after) anything was measured on it: per-request setup, round trip and
/// bandwidth. fetch_ms(bytes) = setup + rtt + bytes / bandwidth.
/// </summary>
/// <param name="Setup">Fixed software cost of one fetch request (lookup, staging slot, completion).</param>
/// <param name="Rtt">Network round trip (zero for local tiers).</param>
/// <param name="BandwidthBytesPerSecond">Sustained payload bandwidth.</param>
public sealed record LinkPrior(TimeSpan Setup, TimeSpan Rtt, double BandwidthBytesPerSecond)
{
    // Every fetch starts with the engine asking its sidecar (a loopback call) and the sidecar taking a staging
    // slot: an assumed 0.3 ms, which the first observed transfers replace.
    private static readonly TimeSpan SidecarSetup = TimeSpan.FromMilliseconds(0.3);

    /// <summary>
    /// Local DRAM: 8 GB/s, 0.3 ms setup. This machine measured a FASTER read plus checksum at 11.6 GB/s and a
    /// DRAM-to-DRAM copy at 9.3 GB/s (shared/PLATFORM-NOTES.md); 8 GB/s leaves room for the scatter.
    /// </summary>
    public static LinkPrior LocalDram { get; } = new(SidecarSetup, TimeSpan.Zero, 8e9);

    /// <summary>Local SSD: 2 GB/s and 100 µs device latency (one NVMe drive, large reads), 0.3 ms setup.</summary>
    public static LinkPrior LocalSsd { get; } = new(SidecarSetup, TimeSpan.FromMilliseconds(0.1), 2e9);

    /// <summary>
    /// A peer: 1.25 GB/s (10 Gbit/s line rate), 0.5 ms round trip, 0.3 ms setup. Deliberately conservative: an
    /// unmeasured peer should not win against local DRAM, and real transfers correct it within a few fetches.
    /// </summary>
    public static LinkPrior Peer { get; } = new(SidecarSetup, TimeSpan.FromMilliseconds(0.5), 1.25e9);

    /// <summary>Milliseconds to fetch <paramref name="bytes"/> over this link.</summary>
    public double FetchMs(double bytes) => Setup.TotalMilliseconds + Rtt.TotalMilliseconds + (bytes / BandwidthBytesPerSecond * 1e3);

    internal void Validate(string name)
    {
        if (Setup < TimeSpan.Zero || Rtt < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, $"{name}: setup and rtt must not be negative (got {Setup}, {Rtt}).");
        }

        if (!(BandwidthBytesPerSecond > 0) || double.IsInfinity(BandwidthBytesPerSecond))
        {
            throw new ArgumentOutOfRangeException(
                name, $"{name}: bandwidth must be a positive, finite number of bytes per second (got {BandwidthBytesPerSecond}).");
        }
    }
}
