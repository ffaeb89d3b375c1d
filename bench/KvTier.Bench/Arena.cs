namespace KvTier.Bench;

/// <summary>
/// A pinned, pre-touched region cut into equal slots: the benchmarks' source and destination memory. Touching it up
/// front keeps first-touch page faults (about 2 s per GiB here) out of every measurement.
/// </summary>
internal sealed class Arena
{
    private readonly byte[] _bytes;

    public Arena(int slots, int slotBytes, int seed)
    {
        Slots = slots;
        SlotBytes = slotBytes;
        _bytes = GC.AllocateUninitializedArray<byte>(checked(slots * slotBytes), pinned: true);
        new Random(seed).NextBytes(_bytes);
    }

    public int Slots { get; }

    public int SlotBytes { get; }

    public long Bytes => _bytes.LongLength;

    /// <summary>Slot <paramref name="i"/> (wrapping around), as a span.</summary>
    public Span<byte> Slot(int i) => _bytes.AsSpan((i % Slots) * SlotBytes, SlotBytes);

    /// <summary>Slot <paramref name="i"/> (wrapping around), for asynchronous senders.</summary>
    public Memory<byte> SlotMemory(int i) => _bytes.AsMemory((i % Slots) * SlotBytes, SlotBytes);

    /// <summary>Slots <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/>, back to back.</summary>
    public Memory<byte> Run(int first, int count) => _bytes.AsMemory(first * SlotBytes, count * SlotBytes);
}
