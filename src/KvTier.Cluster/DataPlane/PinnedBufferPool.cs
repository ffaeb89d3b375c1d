namespace KvTier.Cluster.DataPlane;

/// <summary>
/// Pinned (POH) block buffers in size classes of 64 KiB × 2^k plus 4 KiB of headroom, so a 2 MiB payload and its
/// frame prefix fit a 2 MiB class instead of doubling to 4 MiB. Pinned because every buffer goes to the socket and
/// the store by address; pooled so a block costs no allocation. A class keeps at most a few idle buffers.
/// </summary>
internal sealed class PinnedBufferPool(int keepPerClass)
{
    private const int MinShift = 16;
    private const int MaxShift = 30;
    private const int Headroom = 4096;

    private readonly Stack<byte[]>[] _classes = CreateClasses();

    /// <summary>Largest buffer the pool hands out.</summary>
    public const long MaxLength = (1L << MaxShift) + Headroom;

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes; give it back with <see cref="Return"/>.</summary>
    public byte[] Rent(long minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minimumLength, MaxLength);
        var shift = MinShift;
        while ((1L << shift) + Headroom < minimumLength)
        {
            shift++;
        }

        var stack = _classes[shift - MinShift];
        lock (stack)
        {
            if (stack.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        return GC.AllocateUninitializedArray<byte>((1 << shift) + Headroom, pinned: true);
    }

    /// <summary>Returns a buffer from <see cref="Rent"/>; extras beyond the class's quota go to the GC.</summary>
    public void Return(byte[]? buffer)
    {
        if (buffer is null)
        {
            return;
        }

        var shift = MinShift;
        while ((1L << shift) + Headroom < buffer.Length)
        {
            shift++;
        }

        if ((1L << shift) + Headroom != buffer.Length)
        {
            return;
        }

        var stack = _classes[shift - MinShift];
        lock (stack)
        {
            if (stack.Count < keepPerClass)
            {
                stack.Push(buffer);
            }
        }
    }

    private static Stack<byte[]>[] CreateClasses()
    {
        var classes = new Stack<byte[]>[MaxShift - MinShift + 1];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = new Stack<byte[]>();
        }

        return classes;
    }
}
