using System.Security.Cryptography.X509Certificates;
using KvTier.Core;

namespace KvTier.Server.Auth;

/// <summary>The <c>--tls-ca</c> anchors a member trusts, besides the system store, when it calls other members over HTTPS.</summary>
internal static class TrustedCertificates
{
    /// <summary>Every certificate of a PEM file (none when it holds none).</summary>
    public static X509Certificate2Collection Load(string pemFile)
    {
        try
        {
            return CertificateTrust.LoadPem(pemFile);
        }
        catch (ArgumentException)
        {
            return [];
        }
    }
}
