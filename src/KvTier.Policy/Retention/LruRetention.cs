namespace KvTier.Policy;

/// <summary>
/// Plain LRU over blocks, the baseline: a request's blocks are touched in prompt order (so its root is the least
/// recent of them), and the least recently touched blocks are evicted once the request is stored.
/// </summary>
public sealed class LruRetention : IBlockRetention
{
    private readonly Dictionary<long, RetentionEntry<long>> _held = [];
    private readonly RetentionList<long> _order = new();

    /// <summary>Creates an empty LRU of <paramref name="capacity"/> blocks.</summary>
    public LruRetention(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <inheritdoc />
    public string Name => "lru";

    /// <inheritdoc />
    public int Capacity { get; }

    /// <inheritdoc />
    public int Count => _held.Count;

    /// <inheritdoc />
    public bool Contains(long id) => _held.ContainsKey(id);

    /// <inheritdoc />
    public void OnRequest(ReadOnlySpan<long> fullBlockIds, int hitBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hitBlocks);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hitBlocks, fullBlockIds.Length);
        foreach (var id in fullBlockIds)
        {
            if (_held.TryGetValue(id, out var entry))
            {
                _order.Remove(entry);
            }
            else
            {
                entry = new RetentionEntry<long>(id);
                _held.Add(id, entry);
            }

            _order.AddLast(entry);
        }

        while (_held.Count > Capacity)
        {
            var victim = _order.First!;
            _order.Remove(victim);
            _held.Remove(victim.Id);
        }
    }
}
