using KvTier.Core;

namespace KvTier.Bench;

/// <summary>
/// The net benchmark's blocks: distinct random payloads in one pinned, pre-touched arena (the socket baseline sends
/// from it, the fills copy it into node A and redis) and a key for each.
/// </summary>
internal sealed class NetBlocks(int count, int blockBytes, int seed)
{
    private readonly Arena _arena = new(count, blockBytes, seed);

    public int Count => _arena.Slots;

    public int BlockBytes => _arena.SlotBytes;

    public long TotalBytes => _arena.Bytes;

    public BlockKey[] Keys { get; } = Enumerable.Range(0, count).Select(i => BenchKeys.Of("net", 0, i)).ToArray();

    public ReadOnlyMemory<byte> Block(int i) => _arena.SlotMemory(i);

    /// <summary>Blocks <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/>, back to back.</summary>
    public ReadOnlyMemory<byte> Run(int first, int count) => _arena.Run(first, count);
}
