using System.Security.Cryptography;
using System.Text;

namespace KvTier.Server.Auth;

/// <summary>
/// The configured API keys, held as SHA-256 digests: a presented key is hashed and looked up, so the time a lookup
/// takes says nothing about how much of a real key it matched, and no key is kept in memory in clear.
/// </summary>
internal sealed class ApiKeyRing
{
    private readonly Dictionary<string, Caller> _byDigest = new(StringComparer.Ordinal);

    public ApiKeyRing(AuthOptions auth)
    {
        foreach (var (key, tenant) in auth.ApiKeys)
        {
            _byDigest[Digest(key)] = new Caller(tenant, IsAdmin: false);
        }

        foreach (var (key, tenant) in auth.AdminKeys)
        {
            _byDigest[Digest(key)] = new Caller(tenant, IsAdmin: true);
        }
    }

    /// <summary>True when keys are configured: every call then needs one.</summary>
    public bool Enabled => _byDigest.Count > 0;

    /// <summary>The caller a presented key stands for, or null for an unknown key.</summary>
    public Caller? Find(string presented) => _byDigest.TryGetValue(Digest(presented), out var caller) ? caller : null;

    private static string Digest(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>Who a key stands for.</summary>
/// <param name="Tenant">The tenant its blocks belong to.</param>
/// <param name="IsAdmin">True for admin keys: they may also write the shared namespace.</param>
internal readonly record struct Caller(string Tenant, bool IsAdmin);
