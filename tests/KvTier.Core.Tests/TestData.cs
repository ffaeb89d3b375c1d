using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>Shared fixed inputs: a recognisable parent key and seeded random payloads.</summary>
internal static class TestData
{
    /// <summary>Parent digest bytes 0xa0, 0xa1, ... 0xbf: easy to spot in a hex dump.</summary>
    public static byte[] ParentBytes { get; } = [.. Enumerable.Range(0, BlockKey.Size).Select(i => (byte)(0xa0 + i))];

    public static BlockKey Parent { get; } = new(ParentBytes);

    /// <summary>Tokens first, first+1, ... (count of them).</summary>
    public static int[] Tokens(int count, int first = 0) => [.. Enumerable.Range(first, count)];

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed = 1234)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
