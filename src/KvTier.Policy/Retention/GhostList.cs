namespace KvTier.Policy;

/// <summary>
/// Evicted keys remembered without their KV, oldest first, up to a capacity: a key that comes back while remembered
/// is a reuse a slightly larger cache would have served; one pushed out is a block that was not reused.
/// </summary>
internal sealed class GhostList<TKey>(int capacity)
    where TKey : notnull
{
    /// <summary>How many keys are remembered; a pool whose size moves (a store's) sets it as it goes.</summary>
    public int Capacity { get; set; } = capacity;

    private readonly Dictionary<TKey, RetentionEntry<TKey>> _entries = [];
    private readonly RetentionList<TKey> _order = new();

    public int Count => _entries.Count;

    /// <summary>Takes <paramref name="id"/> back out of the list, if it is remembered.</summary>
    public bool Remove(TKey id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RetentionEntry<TKey>? entry)
    {
        if (!_entries.Remove(id, out entry))
        {
            return false;
        }

        _order.Remove(entry);
        return true;
    }

    /// <summary>Remembers an evicted entry; returns the oldest one pushed out to make room, if any.</summary>
    public RetentionEntry<TKey>? Add(RetentionEntry<TKey> entry)
    {
        if (Capacity == 0)
        {
            return entry;
        }

        _entries.Add(entry.Id, entry);
        _order.AddLast(entry);
        return TrimOne();
    }

    /// <summary>Forgets the oldest key if more than <see cref="Capacity"/> are remembered; returns it, or null.</summary>
    public RetentionEntry<TKey>? TrimOne()
    {
        if (_entries.Count <= Capacity)
        {
            return null;
        }

        var old = _order.First!;
        _order.Remove(old);
        _entries.Remove(old.Id);
        return old;
    }
}
