using System.Runtime.InteropServices;

namespace KvTier.Bench;

/// <summary>
/// A pinned, pre-touched region cut into equal slots: the benchmark's source and destination memory. Touching it up
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

    public Span<byte> Slot(int i) => _bytes.AsSpan((i % Slots) * SlotBytes, SlotBytes);

    public ref byte Start => ref MemoryMarshal.GetArrayDataReference(_bytes);
}
