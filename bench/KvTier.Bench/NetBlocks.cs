using System.Security.Cryptography;
using KvTier.Core;

namespace KvTier.Bench;

/// <summary>
/// The benchmark's blocks: distinct random payloads in one pinned, pre-touched array (the socket baseline sends from
/// it, the fills copy it into node A and redis) and a key for each.
/// </summary>
internal sealed class NetBlocks
{
    private readonly byte[] _bytes;

    public NetBlocks(int count, int blockBytes, int seed)
    {
        Count = count;
        BlockBytes = blockBytes;
        _bytes = GC.AllocateUninitializedArray<byte>(checked(count * blockBytes), pinned: true);
        new Random(seed).NextBytes(_bytes);
        Keys = Enumerable.Range(0, count).Select(Key).ToArray();
    }

    public int Count { get; }

    public int BlockBytes { get; }

    public long TotalBytes => _bytes.LongLength;

    public BlockKey[] Keys { get; }

    public ReadOnlyMemory<byte> Block(int i) => _bytes.AsMemory(i * BlockBytes, BlockBytes);

    /// <summary>Blocks <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/>, back to back.</summary>
    public ReadOnlyMemory<byte> Run(int first, int count) => _bytes.AsMemory(first * BlockBytes, count * BlockBytes);

    private static BlockKey Key(int i)
    {
        Span<byte> bytes = stackalloc byte[BlockKey.Size];
        BitConverter.TryWriteBytes(bytes, i);
        BitConverter.TryWriteBytes(bytes[4..], 0x6e65742d62656e63L); // "net-benc": apart from the other scenarios' keys
        SHA256.HashData(bytes[..12], bytes);
        return new BlockKey(bytes);
    }
}
