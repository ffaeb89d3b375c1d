namespace KvTier.Policy;

/// <summary>
/// Learns what fetching costs from each source (local DRAM, local SSD, each peer) from the transfers it is told
/// about: fetch_ms(bytes) = setup + rtt + bytes / bandwidth, with rtt and bandwidth fitted online by an
/// exponentially weighted least-squares line through (bytes, elapsed). Until a source is observed it costs its
/// prior; a source not observed for <see cref="LinkModelOptions.StaleAfter"/> decays back toward the prior (links
/// change, and an old measurement should not pin a decision forever); a source marked down costs infinity.
/// Links are shared by every model: one instance per node. Thread-safe; does no I/O.
/// </summary>
public sealed class LinkCostModel
{
    // A timer can report zero for a tiny local copy; treat it as one microsecond rather than infinite bandwidth.
    private const double MinElapsedMs = 1e-3;

    private readonly TimeProvider _time;
    private readonly LinkModelOptions _options;
    private readonly Dictionary<FetchSource, LinkState> _links = [];
    private readonly Lock _lock = new();

    /// <summary>Creates a model that reads the clock from <paramref name="time"/>.</summary>
    public LinkCostModel(TimeProvider time, LinkModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _options = options ?? new LinkModelOptions();
        _options.Validate();
        _time = time;
    }

    /// <summary>Records one completed transfer of <paramref name="bytes"/> from <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Bytes not positive, or elapsed negative.</exception>
    public void ObserveFetch(FetchSource source, long bytes, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(elapsed, TimeSpan.Zero);
        var ms = Math.Max(elapsed.TotalMilliseconds, MinElapsedMs);
        lock (_lock)
        {
            var link = State(source);
            link.Observe(bytes, ms, _options.Alpha, PriorOf(source, link), _time.GetTimestamp());
        }
    }

    /// <summary>
    /// Marks a source down (membership says it left, or fetches from it fail): it costs infinity and is never
    /// planned until <see cref="MarkUp"/>. What was learned about it is kept.
    /// </summary>
    public void MarkDown(FetchSource source)
    {
        lock (_lock)
        {
            State(source).Down = true;
        }
    }

    /// <summary>Marks a source up again.</summary>
    public void MarkUp(FetchSource source)
    {
        lock (_lock)
        {
            State(source).Down = false;
        }
    }

    /// <summary>True when the source is marked down.</summary>
    public bool IsDown(FetchSource source)
    {
        lock (_lock)
        {
            return _links.TryGetValue(source, out var link) && link.Down;
        }
    }

    /// <summary>Gives one source its own prior (a peer known to sit on a faster or slower link).</summary>
    public void SetPrior(FetchSource source, LinkPrior prior)
    {
        ArgumentNullException.ThrowIfNull(prior);
        prior.Validate(nameof(prior));
        lock (_lock)
        {
            State(source).PriorOverride = prior;
        }
    }

    /// <summary>The current estimate for a source: learned, blended with its prior as it goes stale.</summary>
    public LinkEstimate Estimate(FetchSource source)
    {
        lock (_lock)
        {
            if (!_links.TryGetValue(source, out var link))
            {
                var prior = _options.PriorFor(source.Kind);
                return new LinkEstimate(source, prior.Setup, prior.Rtt, prior.BandwidthBytesPerSecond, 0, 0, false);
            }

            return link.Estimate(source, PriorOf(source, link), Freshness(link));
        }
    }

    /// <summary>Milliseconds to fetch <paramref name="bytes"/> from <paramref name="source"/>; infinity when down.</summary>
    public double FetchMs(FetchSource source, double bytes) => Estimate(source).FetchMs(bytes);

    private LinkState State(FetchSource source)
    {
        if (!_links.TryGetValue(source, out var link))
        {
            link = new LinkState();
            _links.Add(source, link);
        }

        return link;
    }

    private LinkPrior PriorOf(FetchSource source, LinkState link) => link.PriorOverride ?? _options.PriorFor(source.Kind);

    /// <summary>1 while fresh; after StaleAfter, halves every StaleHalfLife.</summary>
    private double Freshness(LinkState link)
    {
        if (link.Observations == 0)
        {
            return 0;
        }

        var age = _time.GetElapsedTime(link.LastObserved);
        var over = age - _options.StaleAfter;
        return over <= TimeSpan.Zero ? 1 : Math.Pow(0.5, over / _options.StaleHalfLife);
    }
}
