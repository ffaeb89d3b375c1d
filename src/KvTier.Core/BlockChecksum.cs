using System.IO.Hashing;

namespace KvTier.Core;

/// <summary>Payload checksums (XxHash3, 64-bit): fast enough to verify every read at memory speed.</summary>
public static class BlockChecksum
{
    // Copy and hash in cache-sized chunks: each chunk is hashed while it is still hot in L2.
    private const int Chunk = 64 * 1024;

    [ThreadStatic]
    private static XxHash3? t_hasher;

    /// <summary>Checksum of a payload.</summary>
    public static ulong Compute(ReadOnlySpan<byte> payload) => XxHash3.HashToUInt64(payload);

    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/> and returns the checksum of the bytes copied.</summary>
    public static ulong CopyAndCompute(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length <= Chunk)
        {
            source.CopyTo(destination);
            return XxHash3.HashToUInt64(destination[..source.Length]);
        }

        var hasher = t_hasher ??= new XxHash3();
        hasher.Reset();
        for (var offset = 0; offset < source.Length; offset += Chunk)
        {
            var n = Math.Min(Chunk, source.Length - offset);
            var dst = destination.Slice(offset, n);
            source.Slice(offset, n).CopyTo(dst);
            hasher.Append(dst);
        }

        return hasher.GetCurrentHashAsUInt64();
    }
}
