using KvTier.Core;

namespace KvTier.Transfer.Tests;

internal static class Pools
{
    /// <summary>A small geometry: 3 layers × 2 kv heads × 8 dim × fp32 × 4 tokens = 256 B chunks, 1.5 KiB blocks.</summary>
    public static ModelGeometry Small { get; } = new("small", layers: 3, kvHeads: 2, headDim: 8, KvDType.Fp32, blockTokens: 4);

    public static byte[] Random(long length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
