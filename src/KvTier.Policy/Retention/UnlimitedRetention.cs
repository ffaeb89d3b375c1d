namespace KvTier.Policy;

/// <summary>Keeps every block it is offered: the ceiling any retention policy can reach on a trace.</summary>
public sealed class UnlimitedRetention : IBlockRetention
{
    private readonly HashSet<long> _held = [];

    /// <inheritdoc />
    public string Name => "unlimited";

    /// <inheritdoc />
    public int Capacity => int.MaxValue;

    /// <inheritdoc />
    public int Count => _held.Count;

    /// <inheritdoc />
    public bool Contains(long id) => _held.Contains(id);

    /// <inheritdoc />
    public void OnRequest(ReadOnlySpan<long> fullBlockIds, int hitBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hitBlocks);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hitBlocks, fullBlockIds.Length);
        foreach (var id in fullBlockIds)
        {
            _held.Add(id);
        }
    }
}
