namespace KvTier.Policy;

/// <summary>
/// KvTier's block retention: LRU queues per reuse class, with each class's reuse rate learned online, and the
/// eviction victim the queue head with the most age per unit of reuse probability.
/// </summary>
/// <remarks>
/// <para>
/// LRU ranks blocks by age alone; but a block's chance of being reused depends strongly on what it is (a block
/// already reused several times comes back two to three times as often as a fresh one; the tail of a long document
/// appended to a conversation rarely does). Each class (<see cref="RetentionClasses"/>) keeps its blocks in LRU order and a
/// success/failure count: a success when a block of the class is accessed again while held or remembered in the
/// ghost list, a failure when it falls off the ghost list unused. The victim is the head (oldest block) of the class
/// maximising age / p̂(class): with equal rates this is exactly LRU, and a class half as likely to be reused is
/// kept half as long. The ratio has no scale of its own, so the same rule serves a small cache (where the rates
/// decide) and a large one (where everything lives long and the policy stays close to LRU).
/// </para>
/// <para>
/// A request's blocks are touched deepest first, so within a request the root is the most recent and a chain is
/// evicted from its tail: a block whose parent is gone can never be part of a leading hit.
/// </para>
/// </remarks>
public sealed class KvTierRetention : IBlockRetention
{
    private readonly Dictionary<long, RetentionEntry<long>> _held = [];
    private readonly GhostList<long> _ghost;
    private readonly RetentionList<long>[] _queues = new RetentionList<long>[RetentionClasses.Count];
    private readonly ReuseRates _rates;
    private long _clock;

    /// <summary>Creates an empty policy of <paramref name="capacity"/> blocks.</summary>
    public KvTierRetention(int capacity, KvTierRetentionOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        options ??= new KvTierRetentionOptions();
        options.Validate();
        Capacity = capacity;
        _rates = new ReuseRates(options.PriorStrength);
        _ghost = new GhostList<long>(options.GhostCapacity(capacity));
        for (var c = 0; c < _queues.Length; c++)
        {
            _queues[c] = new RetentionList<long>();
        }
    }

    /// <inheritdoc />
    public string Name => "kvtier";

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
        var newClass = RetentionClasses.New(hitBlocks, fullBlockIds.Length - hitBlocks);

        // Deepest first: the root ends up the most recent, so the chain's tail is the first to go.
        for (var i = fullBlockIds.Length - 1; i >= 0; i--)
        {
            Touch(fullBlockIds[i], newClass);
        }

        while (_held.Count > Capacity)
        {
            Evict();
        }
    }

    /// <summary>The learned reuse probability of <paramref name="blockClass"/>, shrunk toward the all-class mean.</summary>
    internal double ReuseRate(int blockClass) => _rates.Rate(blockClass);

    /// <summary>The class block <paramref name="id"/> is queued in, or null when it is not held.</summary>
    internal int? ClassOf(long id) => _held.TryGetValue(id, out var entry) ? entry.Class : null;

    private void Touch(long id, int newClass)
    {
        _clock++;
        if (_held.TryGetValue(id, out var entry))
        {
            _queues[entry.Class].Remove(entry);
            _rates.Reused(entry);
        }
        else if (_ghost.Remove(id, out entry))
        {
            _rates.Reused(entry);
            _held.Add(id, entry);
        }
        else
        {
            entry = new RetentionEntry<long>(id) { Class = newClass };
            _held.Add(id, entry);
        }

        entry.Touched = _clock;
        _queues[entry.Class].AddLast(entry);
    }

    private void Evict()
    {
        RetentionEntry<long>? victim = null;
        var worst = double.NegativeInfinity;
        for (var c = 0; c < _queues.Length; c++)
        {
            var head = _queues[c].First;
            if (head is null)
            {
                continue;
            }

            // +1: a block touched by this very request still has an age, so rates break the tie.
            var score = (_clock - head.Touched + 1) / ReuseRate(c);
            if (score > worst)
            {
                worst = score;
                victim = head;
            }
        }

        _queues[victim!.Class].Remove(victim);
        _held.Remove(victim.Id);
        if (_ghost.Add(victim) is { } forgotten)
        {
            _rates.Dropped(forgotten);
        }
    }
}
