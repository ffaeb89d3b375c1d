using System.Buffers.Binary;
using System.Security.Cryptography;
using KvTier.Core;

namespace KvTier.Bench;

/// <summary>
/// Keys of benchmark blocks: SHA-256 of (scenario, pass, index), so keys are uniform like real chain hashes and never
/// collide across scenarios, passes or blocks.
/// </summary>
internal static class BenchKeys
{
    public static BlockKey Of(string scenario, int pass, int index)
    {
        Span<byte> input = stackalloc byte[8 + 32];
        BinaryPrimitives.WriteInt32LittleEndian(input, pass);
        BinaryPrimitives.WriteInt32LittleEndian(input[4..], index);
        var length = 8 + System.Text.Encoding.UTF8.GetBytes(scenario, input[8..]);
        Span<byte> digest = stackalloc byte[BlockKey.Size];
        SHA256.HashData(input[..length], digest);
        return new BlockKey(digest);
    }
}
