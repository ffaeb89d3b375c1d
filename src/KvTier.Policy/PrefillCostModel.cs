namespace KvTier.Policy;

/// <summary>
/// Re-prefill cost for one model on one device: a <see cref="PrefillProfile"/> whose two coefficients (per token,
/// per token-context pair) are refitted online from the prefills the engine reports. The fit is recursive least
/// squares with forgetting, in units of the profile's coefficients and weighted by relative error: it starts at
/// the profile, one report moves it about halfway, and about ten reports (the forgetting window) decide it. Each
/// report is clipped to within 4× of the current prediction, so a GC pause or a preempted step cannot throw the
/// model off by more than a bounded step, while a truly different device still converges in a handful of steps.
/// The overhead stays the profile's: it only shows in tiny prefills, which are the noisiest. Thread-safe; no I/O.
/// </summary>
public sealed class PrefillCostModel
{
    private const double MaxStep = 4;
    private const double PriorWeight = 1;       // the profile counts as one observation at the start
    private const double Floor = 1e-6;          // never forgets the profile completely: keeps the fit defined
    private const double MinCoefficient = 1e-3; // in profile units: a coefficient never falls to zero

    private readonly PrefillProfile _profile;
    private readonly double _alpha;
    private readonly double _unitLinear;
    private readonly double _unitAttention;
    private readonly double _priorAttention;
    private readonly Lock _lock = new();

    // Decaying normal equations S θ = t, seeded with the profile as one pseudo-observation.
    private double _s11 = PriorWeight, _s12, _s22 = PriorWeight, _t1 = PriorWeight, _t2;
    private double _theta1 = 1, _theta2;
    private int _observations;

    /// <summary>Creates a model that starts at <paramref name="profile"/>.</summary>
    /// <param name="profile">The starting profile.</param>
    /// <param name="alpha">Forgetting per report, in (0, 1]; default 0.1 (a window of about ten prefills).</param>
    public PrefillCostModel(PrefillProfile profile, double alpha = 0.1)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (!(alpha > 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1]; 0.1 is the default.");
        }

        _profile = profile;
        _alpha = alpha;
        _unitLinear = profile.LinearMsPerToken;

        // A profile may state no attention cost; learn it in units that make it comparable with the linear term at
        // an 8K context, so the fit stays well scaled.
        _unitAttention = profile.AttentionMsPerTokenPair > 0 ? profile.AttentionMsPerTokenPair : profile.LinearMsPerToken / 8192;
        _priorAttention = profile.AttentionMsPerTokenPair / _unitAttention;
        _theta2 = _priorAttention;
        _t2 = PriorWeight * _priorAttention;
    }

    /// <summary>Prefill reports folded in so far.</summary>
    public int Observations
    {
        get
        {
            lock (_lock)
            {
                return _observations;
            }
        }
    }

    /// <summary>The profile as refitted so far (the starting profile until the first report).</summary>
    public PrefillProfile Current
    {
        get
        {
            lock (_lock)
            {
                return _observations == 0
                    ? _profile
                    : _profile with
                    {
                        Source = $"{_profile.Source} (refitted online from {_observations} reported prefills)",
                        LinearMsPerToken = _theta1 * _unitLinear,
                        AttentionMsPerTokenPair = _theta2 * _unitAttention,
                    };
            }
        }
    }

    /// <summary>Milliseconds to prefill <paramref name="tokens"/> new tokens after <paramref name="cachedTokens"/> cached ones.</summary>
    public double RecomputeMs(double tokens, double cachedTokens) => Snapshot().RecomputeMs(tokens, cachedTokens);

    /// <summary>The coefficients as they stand, so that one plan judges every candidate on the same numbers.</summary>
    internal PrefillCoefficients Snapshot()
    {
        lock (_lock)
        {
            return new PrefillCoefficients(_profile.OverheadMs, _theta1 * _unitLinear, _theta2 * _unitAttention);
        }
    }

    /// <summary>Folds in one prefill the engine ran: <paramref name="tokens"/> new after <paramref name="cachedTokens"/> cached.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Tokens not positive, cached tokens or elapsed negative.</exception>
    public void ObservePrefill(int tokens, int cachedTokens, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(elapsed, TimeSpan.Zero);
        double n = tokens;
        var z1 = n * _unitLinear;
        var z2 = n * (cachedTokens + (n / 2)) * _unitAttention;
        lock (_lock)
        {
            var predicted = (_theta1 * z1) + (_theta2 * z2);
            var observed = Math.Clamp(elapsed.TotalMilliseconds - _profile.OverheadMs, predicted / MaxStep, predicted * MaxStep);

            // Relative weighting: divide the row by the prediction, so a 10 % miss on a long prefill counts the same
            // as a 10 % miss on a short one.
            var u1 = z1 / predicted;
            var u2 = z2 / predicted;
            var v = observed / predicted;
            var keep = 1 - _alpha;
            _s11 = (keep * _s11) + (u1 * u1);
            _s12 = (keep * _s12) + (u1 * u2);
            _s22 = (keep * _s22) + (u2 * u2);
            _t1 = (keep * _t1) + (u1 * v);
            _t2 = (keep * _t2) + (u2 * v);
            _observations++;
            Solve();
        }
    }

    private void Solve()
    {
        // (S + Floor·I) θ = t + Floor·θ_profile: the floor only matters in a direction the reports never excite
        // (all prefills of one shape), and there it keeps the profile's split between the two terms.
        var a = _s11 + Floor;
        var b = _s12;
        var d = _s22 + Floor;
        var r1 = _t1 + Floor;
        var r2 = _t2 + (Floor * _priorAttention);
        var det = (a * d) - (b * b);
        _theta1 = Math.Max(((d * r1) - (b * r2)) / det, MinCoefficient);
        _theta2 = Math.Max(((a * r2) - (b * r1)) / det, _priorAttention > 0 ? MinCoefficient : 0);
    }
}

/// <summary>recompute_ms(n | c) = overhead + linear × n + attention × n × (c + n/2), at least one token.</summary>
internal readonly record struct PrefillCoefficients(double OverheadMs, double LinearMsPerToken, double AttentionMsPerTokenPair)
{
    public double RecomputeMs(double tokens, double cachedTokens)
    {
        var n = Math.Max(tokens, 1);
        return OverheadMs + (LinearMsPerToken * n) + (AttentionMsPerTokenPair * n * (cachedTokens + (n / 2)));
    }
}
