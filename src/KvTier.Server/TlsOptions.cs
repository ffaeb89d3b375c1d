namespace KvTier.Server;

/// <summary>
/// Section <c>KvTier:Tls</c>: serve gRPC over HTTPS (HTTP/2 with TLS) from a PEM certificate and key instead of h2c.
/// Default: off.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (chain) of the gRPC endpoint; requires <see cref="KeyFile"/>. Default: none (h2c).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/> (PKCS#8, PKCS#1 or SEC1, unencrypted). Default: none.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// PEM certificates this node trusts, besides the system store, when it calls other members over HTTPS (probes,
    /// forwarded prefill leases). Default: the system store only.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>True when the gRPC endpoint serves HTTPS.</summary>
    public bool Enabled => CertificateFile is not null || KeyFile is not null;
}
