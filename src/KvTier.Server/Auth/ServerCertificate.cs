using System.Security.Cryptography.X509Certificates;

namespace KvTier.Server.Auth;

/// <summary>The gRPC endpoint's certificate (with its private key) and the chain sent after it, loaded from PEM files.</summary>
internal sealed class ServerCertificate : IDisposable
{
    private ServerCertificate(X509Certificate2 leaf, X509Certificate2Collection chain)
    {
        Leaf = leaf;
        Chain = chain;
    }

    /// <summary>The certificate Kestrel presents.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>The other certificates of the file (intermediates), sent as the chain.</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>Loads the certificate of <paramref name="tls"/>, or null when TLS is off (call Validate first).</summary>
    public static ServerCertificate? Load(TlsOptions tls)
    {
        if (tls.CertificateFile is not { } certificateFile || tls.KeyFile is not { } keyFile)
        {
            return null;
        }

        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // A key imported from PEM is ephemeral; a PKCS#12 round trip gives TLS stacks a key they can always use.
        var leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificateFile);
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint == leaf.Thumbprint)
            {
                certificate.Dispose();
            }
            else
            {
                chain.Add(certificate);
            }
        }

        return new ServerCertificate(leaf, chain);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Leaf.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }
}
