using System.Security.Cryptography;
using KvTier.Core;

namespace KvTier.Store.Tests;

/// <summary>Deterministic test blocks: key i and its payload are derived from a seed, so any byte can be re-derived.</summary>
internal static class Blocks
{
    public const string Tenant = "default";

    public static BlockKey Key(int i, int seed = 0)
    {
        Span<byte> input = stackalloc byte[8];
        BitConverter.TryWriteBytes(input, i);
        BitConverter.TryWriteBytes(input[4..], seed);
        return new BlockKey(SHA256.HashData(input));
    }

    public static byte[] Payload(int i, int length, int seed = 0)
    {
        var bytes = new byte[length];
        new Random(HashCode.Combine(i, seed, length)).NextBytes(bytes);
        return bytes;
    }

    public static StoreOptions Small(long memory = 16L << 20, long maxBlock = 256 << 10) =>
        new() { MemoryBytes = memory, MaxBlockBytes = maxBlock };

    public static bool Has(BlockStore store, BlockKey key, string tenant = Tenant) => store.Peek(tenant, key, out _) == BlockStatus.Ok;
}
