namespace KvTier.Policy;

/// <summary>How the link cost model learns and forgets. Every property states its default.</summary>
public sealed class LinkModelOptions
{
    /// <summary>
    /// EWMA weight of each new transfer, in (0, 1]. Default 0.25: a peer that turns slow moves the estimate most
    /// of the way within about five fetches, while one outlier moves it by a quarter.
    /// </summary>
    public double Alpha { get; init; } = 0.25;

    /// <summary>How long a source may go unobserved before its estimate starts decaying to the prior. Default 30 s.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Half-life of that decay, once it starts. Default 60 s.</summary>
    public TimeSpan StaleHalfLife { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Prior for local DRAM. Default <see cref="LinkPrior.LocalDram"/>.</summary>
    public LinkPrior LocalDramPrior { get; init; } = LinkPrior.LocalDram;

    /// <summary>Prior for local SSD. Default <see cref="LinkPrior.LocalSsd"/>.</summary>
    public LinkPrior LocalSsdPrior { get; init; } = LinkPrior.LocalSsd;

    /// <summary>Prior for every peer without its own. Default <see cref="LinkPrior.Peer"/>.</summary>
    public LinkPrior PeerPrior { get; init; } = LinkPrior.Peer;

    /// <summary>Checks the options; the message names the property and the fix.</summary>
    public void Validate()
    {
        if (!(Alpha > 0 && Alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LinkModelOptions.Alpha must be in (0, 1]; 0.25 is the default.");
        }

        if (StaleAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StaleAfter), StaleAfter, "LinkModelOptions.StaleAfter must not be negative.");
        }

        if (StaleHalfLife <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StaleHalfLife), StaleHalfLife, "LinkModelOptions.StaleHalfLife must be positive.");
        }

        ArgumentNullException.ThrowIfNull(LocalDramPrior, nameof(LocalDramPrior));
        ArgumentNullException.ThrowIfNull(LocalSsdPrior, nameof(LocalSsdPrior));
        ArgumentNullException.ThrowIfNull(PeerPrior, nameof(PeerPrior));
        LocalDramPrior.Validate(nameof(LocalDramPrior));
        LocalSsdPrior.Validate(nameof(LocalSsdPrior));
        PeerPrior.Validate(nameof(PeerPrior));
    }

    internal LinkPrior PriorFor(SourceKind kind) => kind switch
    {
        SourceKind.LocalDram => LocalDramPrior,
        SourceKind.LocalSsd => LocalSsdPrior,
        _ => PeerPrior,
    };
}
