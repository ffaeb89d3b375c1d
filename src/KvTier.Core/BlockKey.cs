using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace KvTier.Core;

/// <summary>
/// The 32-byte identity of one full block of tokens: a SHA-256 digest of the vLLM-compatible hash chain.
/// A value type so that chains of thousands of keys cost no per-key allocation.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct BlockKey : IEquatable<BlockKey>
{
    /// <summary>Bytes in a key.</summary>
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    /// <summary>Copies a key from exactly <see cref="Size"/> bytes.</summary>
    public BlockKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A block key is {Size} bytes; got {bytes.Length}.", nameof(bytes));
        }

        this = MemoryMarshal.Read<BlockKey>(bytes);
    }

    /// <summary>The key's bytes, in digest order, without copying.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => MemoryMarshal.AsBytes(new ReadOnlySpan<BlockKey>(in this));

    /// <summary>
    /// The 64-bit id engines use in KV events: the digest's low (last) 8 bytes read big-endian.
    /// </summary>
    public ulong EventId => BinaryPrimitives.ReadUInt64BigEndian(AsSpan()[(Size - 8)..]);

    /// <summary>A well-mixed 64-bit hash for in-memory tables (the digest is already uniform).</summary>
    public ulong Hash64 => _a;

    /// <summary>True when <paramref name="bytes"/> has the length of a key.</summary>
    public static bool IsValidLength(ReadOnlySpan<byte> bytes) => bytes.Length == Size;

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static BlockKey ParseHex(string hex)
    {
        if (!TryParseHex(hex, out var key))
        {
            throw new FormatException(
                $"'{hex}' is not a block key: expected {Size * 2} hex digits (a SHA-256 digest, as printed by 'kvtier hash').");
        }

        return key;
    }

    /// <summary>Parses 64 hex digits without throwing.</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out BlockKey key)
    {
        Span<byte> bytes = stackalloc byte[Size];
        if (hex.Length != Size * 2 || Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != Size)
        {
            key = default;
            return false;
        }

        key = MemoryMarshal.Read<BlockKey>(bytes);
        return true;
    }

    /// <summary>Lower-case hex, 64 characters.</summary>
    public override string ToString() => Convert.ToHexStringLower(AsSpan());

    /// <inheritdoc/>
    public bool Equals(BlockKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BlockKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)_a;

    /// <summary>Equality.</summary>
    public static bool operator ==(BlockKey left, BlockKey right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(BlockKey left, BlockKey right) => !left.Equals(right);
}
