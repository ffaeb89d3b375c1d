using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KvTier.Core;

/// <summary>
/// Server-certificate trust for KvTier's HTTPS clients (the .NET client, the CLI, members calling each other): what the
/// system store trusts, or a chain ending in one of the caller's own anchors (a private CA, or a self-signed server
/// certificate itself). A certificate issued for another host name is refused either way. Nothing is downloaded; the
/// only I/O is reading a PEM file the caller names.
/// </summary>
public static class CertificateTrust
{
    /// <summary>A validation callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public static RemoteCertificateValidationCallback Validator(X509Certificate2Collection anchors)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        return (_, certificate, chain, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }

            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(anchors);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            custom.ChainPolicy.DisableCertificateDownloads = true;
            if (chain is not null)
            {
                custom.ChainPolicy.ExtraStore.AddRange(chain.ChainElements.Select(e => e.Certificate).ToArray());
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return custom.Build(leaf);
        };
    }

    /// <summary>Every certificate of a PEM file; throws <see cref="ArgumentException"/> naming the file when it holds none.</summary>
    public static X509Certificate2Collection LoadPem(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"'{path}' does not exist: give a PEM file of the certificates to trust.", nameof(path));
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentException($"'{path}' is not a PEM certificate file: {e.Message}", nameof(path), e);
        }

        return certificates.Count > 0
            ? certificates
            : throw new ArgumentException($"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).", nameof(path));
    }
}
