namespace KvTier.Policy;

/// <summary>One block's bookkeeping: its id, the class it is queued in, when it was last touched, and how often.</summary>
internal sealed class RetentionEntry<TKey>(TKey id)
{
    public TKey Id { get; } = id;

    /// <summary>The class queue it sits in (KvTier) or the class it was evicted from (in the ghost list).</summary>
    public int Class { get; set; }

    /// <summary>The policy's access clock at its last touch.</summary>
    public long Touched { get; set; }

    /// <summary>How many times it was accessed before its last touch.</summary>
    public int Accesses { get; set; }

    /// <summary>The access clock when its record was last written to the log's tail (<see cref="RetentionJudge"/> only).</summary>
    public long Written { get; set; }

    public RetentionEntry<TKey>? Prev { get; set; }

    public RetentionEntry<TKey>? Next { get; set; }
}

/// <summary>
/// An intrusive doubly linked list, least recent first: O(1) move-to-end and unlink without the per-touch node
/// allocation of <see cref="LinkedList{T}"/> (a replay touches about 290,000 blocks per policy).
/// </summary>
internal sealed class RetentionList<TKey>
{
    public RetentionEntry<TKey>? First { get; private set; }

    public int Count { get; private set; }

    private RetentionEntry<TKey>? _last;

    public void AddLast(RetentionEntry<TKey> entry)
    {
        entry.Prev = _last;
        entry.Next = null;
        if (_last is null)
        {
            First = entry;
        }
        else
        {
            _last.Next = entry;
        }

        _last = entry;
        Count++;
    }

    public void Remove(RetentionEntry<TKey> entry)
    {
        if (entry.Prev is null)
        {
            First = entry.Next;
        }
        else
        {
            entry.Prev.Next = entry.Next;
        }

        if (entry.Next is null)
        {
            _last = entry.Prev;
        }
        else
        {
            entry.Next.Prev = entry.Prev;
        }

        entry.Prev = entry.Next = null;
        Count--;
    }
}
