using System.IO.Hashing;
using System.Text;

namespace KvTier.Store;

/// <summary>
/// Decodes the tenant names a log scan meets: they repeat record after record, so each distinct one is decoded once
/// and a repeat costs a hash and a byte comparison, with no allocation.
/// </summary>
internal sealed class TenantNames
{
    private readonly Dictionary<int, (string Name, byte[] Utf8)> _seen = [];

    public string Of(ReadOnlySpan<byte> utf8)
    {
        var hash = HashCode.Combine(utf8.Length, XxHash32.HashToUInt32(utf8));
        if (_seen.TryGetValue(hash, out var known) && known.Utf8.AsSpan().SequenceEqual(utf8))
        {
            return known.Name;
        }

        var name = Encoding.UTF8.GetString(utf8);
        _seen[hash] = (name, utf8.ToArray());
        return name;
    }
}
