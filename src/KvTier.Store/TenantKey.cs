using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using FASTER.core;
using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// Record keys: the 32-byte block key followed by the tenant's UTF-8 name, so tenants never share a record.
/// </summary>
internal static class TenantKey
{
    /// <summary>Largest key in bytes.</summary>
    public const int MaxBytes = BlockKey.Size + StoreLayout.MaxTenantBytes;

    /// <summary>Writes the key of <paramref name="key"/> under <paramref name="tenant"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, string tenant, in BlockKey key)
    {
        key.AsSpan().CopyTo(destination);
        return BlockKey.Size + WriteTenant(destination, tenant);
    }

    /// <summary>Writes the tenant suffix once; callers then overwrite only the first 32 bytes per key.</summary>
    public static int WriteTenant(Span<byte> destination, string tenant)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (Encoding.UTF8.GetByteCount(tenant) > StoreLayout.MaxTenantBytes)
        {
            throw new ArgumentException($"tenant '{tenant}' is longer than {StoreLayout.MaxTenantBytes} UTF-8 bytes.", nameof(tenant));
        }

        return Encoding.UTF8.GetBytes(tenant, destination[BlockKey.Size..]);
    }
}

/// <summary>
/// Hashes record keys cheaply: the block key is already a uniform SHA-256 digest, so its first 8 bytes mixed with
/// a hash of the (short) tenant suffix make a good 64-bit hash without hashing all 32 bytes.
/// </summary>
internal sealed class TenantKeyComparer : IFasterEqualityComparer<SpanByte>
{
    public long GetHashCode64(ref SpanByte k)
    {
        var bytes = k.AsReadOnlySpan();
        return MemoryMarshal.Read<long>(bytes) ^ (long)XxHash3.HashToUInt64(bytes[BlockKey.Size..]);
    }

    public bool Equals(ref SpanByte k1, ref SpanByte k2) => k1.AsReadOnlySpan().SequenceEqual(k2.AsReadOnlySpan());
}
