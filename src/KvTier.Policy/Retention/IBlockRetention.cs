namespace KvTier.Policy;

/// <summary>
/// Decides which prefix blocks a capacity-bounded KV tier keeps. A request's hit is the longest leading run of its
/// block ids that <see cref="Contains"/> reports; after the lookup the pool stores the request's KV, so
/// <see cref="OnRequest"/> admits and touches its blocks and evicts down to <see cref="Capacity"/>.
/// </summary>
public interface IBlockRetention
{
    /// <summary>A short name for reports and benchmark tables.</summary>
    string Name { get; }

    /// <summary>The most blocks the policy holds once <see cref="OnRequest"/> returns.</summary>
    int Capacity { get; }

    /// <summary>How many blocks are held now; never above <see cref="Capacity"/> between requests.</summary>
    int Count { get; }

    /// <summary>Whether block <paramref name="id"/> is held.</summary>
    bool Contains(long id);

    /// <summary>
    /// Admits and touches a request's blocks, then evicts down to <see cref="Capacity"/>.
    /// </summary>
    /// <param name="fullBlockIds">The blocks offered for storage, in prompt order (a chain: each extends the one before).</param>
    /// <param name="hitBlocks">How many leading blocks of <paramref name="fullBlockIds"/> were held at lookup.</param>
    void OnRequest(ReadOnlySpan<long> fullBlockIds, int hitBlocks);
}
