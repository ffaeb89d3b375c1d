using KvTier.Core;

namespace KvTier.EngineSim;

/// <summary>
/// The engine's VRAM-like prefix cache: a fixed number of block slots, LRU-evicted. Blocks used by the request in
/// flight are pinned so they cannot be evicted underneath it.
/// </summary>
internal sealed class VramPool(int slots)
{
    private readonly Dictionary<BlockKey, LinkedListNode<(BlockKey Key, int Slot)>> _index = [];
    private readonly LinkedList<(BlockKey Key, int Slot)> _lru = new(); // most recent first
    private readonly Stack<int> _free = new(Enumerable.Range(0, slots).Reverse());
    private readonly HashSet<BlockKey> _pinned = [];

    public int Slots { get; } = slots;

    /// <summary>The slot of a cached block (and marks it recently used), or -1.</summary>
    public int Find(in BlockKey key)
    {
        if (!_index.TryGetValue(key, out var node))
        {
            return -1;
        }

        _lru.Remove(node);
        _lru.AddFirst(node);
        return node.Value.Slot;
    }

    public void Pin(in BlockKey key) => _pinned.Add(key);

    public void UnpinAll() => _pinned.Clear();

    /// <summary>
    /// A free slot for a new block; when none is free the least recently used unpinned block is evicted and returned in
    /// <paramref name="evicted"/> so the caller can offload it before the slot is overwritten. -1 when every slot is pinned.
    /// </summary>
    public int Allocate(out (BlockKey Key, int Slot)? evicted)
    {
        evicted = null;
        if (_free.TryPop(out var slot))
        {
            return slot;
        }

        for (var node = _lru.Last; node is not null; node = node.Previous)
        {
            if (!_pinned.Contains(node.Value.Key))
            {
                evicted = node.Value;
                _lru.Remove(node);
                _index.Remove(node.Value.Key);
                return node.Value.Slot;
            }
        }

        return -1;
    }

    /// <summary>Records that <paramref name="slot"/> now holds <paramref name="key"/>.</summary>
    public void Insert(in BlockKey key, int slot) => _index[key] = _lru.AddFirst((key, slot));

    /// <summary>Returns a slot whose block was not filled (e.g. an onload that failed).</summary>
    public void Release(int slot) => _free.Push(slot);
}
