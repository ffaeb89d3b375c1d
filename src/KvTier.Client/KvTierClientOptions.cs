using System.Security.Cryptography.X509Certificates;
using KvTier.Core;

namespace KvTier.Client;

/// <summary>How a <see cref="KvTierClient"/> authenticates and which servers it trusts.</summary>
public sealed class KvTierClientOptions
{
    /// <summary>Sent as <c>authorization: Bearer KEY</c> on every call when set. Default: none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Sent as <c>kvtier-namespace</c>: <c>shared</c> reads only the shared namespace and, with an admin key, writes
    /// public prefixes there; null (the default) reads the key's tenant, then shared, and writes the key's tenant.
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// Certificates trusted for <c>https://</c> servers besides the system store (a private CA, or a self-signed server
    /// certificate itself); the server's name must still match its certificate. Default: the system store only.
    /// </summary>
    public X509Certificate2Collection? TrustedCertificates { get; set; }

    /// <summary>
    /// Trusts the certificates of a PEM file (<c>--ca-file</c>). Throws <see cref="ArgumentException"/> naming the file
    /// when it holds no certificate.
    /// </summary>
    public KvTierClientOptions TrustPemFile(string path)
    {
        TrustedCertificates = CertificateTrust.LoadPem(path);
        return this;
    }
}
