namespace KvTier.Policy;

/// <summary>
/// What one source has shown so far: an exponentially weighted least-squares fit of transfer time against size,
/// time_ms = intercept + slope × MiB. The intercept is setup + rtt, the slope is 1 / bandwidth. Not thread-safe:
/// <see cref="LinkCostModel"/> serialises access.
/// </summary>
internal sealed class LinkState
{
    private const double BytesPerMiB = 1024 * 1024;

    // Sizes must vary by at least this coefficient of variation before the fit may separate rtt from bandwidth;
    // below it, one size tells how long that size takes and nothing about the split.
    private const double MinSizeVariation = 0.05;

    // EWMA-weighted sums of the observed (size in MiB, time in ms): the normal equations of the fit.
    private double _w, _sx, _sy, _sxx, _sxy;

    // How much of the prior the EWMA still holds: (1 - alpha)^observations, exactly as an EWMA seeded with the prior.
    private double _priorShare = 1;
    private double _intercept;
    private double _slope;

    public int Observations { get; private set; }

    public long LastObserved { get; private set; }

    public bool Down { get; set; }

    public LinkPrior? PriorOverride { get; set; }

    public void Observe(double bytes, double ms, double alpha, LinkPrior prior, long timestamp)
    {
        var x = bytes / BytesPerMiB;
        var keep = 1 - alpha;
        _w = (keep * _w) + 1;
        _sx = (keep * _sx) + x;
        _sy = (keep * _sy) + ms;
        _sxx = (keep * _sxx) + (x * x);
        _sxy = (keep * _sxy) + (x * ms);
        _priorShare *= keep;
        Observations++;
        LastObserved = timestamp;
        Refit(prior);
    }

    /// <summary>The estimate blended with the prior: <paramref name="freshness"/> scales what was learned.</summary>
    public LinkEstimate Estimate(FetchSource source, LinkPrior prior, double freshness)
    {
        var priorIntercept = prior.Setup.TotalMilliseconds + prior.Rtt.TotalMilliseconds;
        var priorSlope = PriorSlope(prior);
        var learned = Observations == 0 ? 0 : (1 - _priorShare) * freshness;
        var intercept = (learned * _intercept) + ((1 - learned) * priorIntercept);
        var slope = (learned * _slope) + ((1 - learned) * priorSlope);
        var setupMs = Math.Min(prior.Setup.TotalMilliseconds, intercept);
        return new LinkEstimate(
            source,
            TimeSpan.FromMilliseconds(setupMs),
            TimeSpan.FromMilliseconds(intercept - setupMs),
            BytesPerMiB / slope * 1e3,
            Observations,
            learned,
            Down);
    }

    private void Refit(LinkPrior prior)
    {
        var meanX = _sx / _w;
        var meanY = _sy / _w;
        var varX = (_sxx / _w) - (meanX * meanX);
        if (Observations >= 2 && varX > MinSizeVariation * MinSizeVariation * meanX * meanX)
        {
            var slope = ((_sxy / _w) - (meanX * meanY)) / varX;
            var intercept = meanY - (slope * meanX);
            if (slope > 0 && intercept >= 0)
            {
                _intercept = intercept;
                _slope = slope;
                return;
            }

            if (slope > 0)
            {
                // Bigger transfers took longer but the line crosses below zero (noise on a fast link):
                // the fixed cost is too small to see, so fit through the origin.
                _intercept = 0;
                _slope = _sxy / _sxx;
                return;
            }
        }

        // One size seen (or noise hides the trend): split the mean time between the fixed and the per-byte part in
        // the proportion the prior predicts for that size. It predicts that size exactly and others sensibly.
        var priorIntercept = prior.Setup.TotalMilliseconds + prior.Rtt.TotalMilliseconds;
        var fixedShare = priorIntercept / (priorIntercept + (PriorSlope(prior) * meanX));
        _intercept = meanY * fixedShare;
        _slope = meanY * (1 - fixedShare) / meanX;
    }

    private static double PriorSlope(LinkPrior prior) => BytesPerMiB / prior.BandwidthBytesPerSecond * 1e3;
}
