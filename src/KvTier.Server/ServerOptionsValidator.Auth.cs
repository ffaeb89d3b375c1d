using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KvTier.Core;
using KvTier.Server.Auth;
using KvTier.Store;

namespace KvTier.Server;

/// <summary>The checks of the <c>KvTier:Auth</c> and <c>KvTier:Tls</c> sections. Messages never quote a key.</summary>
internal static partial class ServerOptionsValidator
{
    /// <summary>Shortest API key accepted: 16 characters (the hex of 8 random bytes).</summary>
    public const int MinKeyLength = 16;

    private const string KeyFix = "use at least 16 random characters without spaces, e.g. the output of 'openssl rand -hex 24'";

    private static void Tls(TlsOptions tls)
    {
        if (tls.CertificateFile is null != (tls.KeyFile is null))
        {
            Fail(tls.CertificateFile is null ? "Tls:KeyFile" : "Tls:CertificateFile", tls.CertificateFile ?? tls.KeyFile,
                "give both --tls-cert and --tls-key (PEM files), or neither");
        }

        if (tls.CaFile is not null && !tls.Enabled)
        {
            Fail("Tls:CaFile", tls.CaFile, "it is only used with --tls-cert and --tls-key: give those too, or drop it");
        }

        if (tls.CertificateFile is { } cert && tls.KeyFile is { } key)
        {
            Exists("Tls:CertificateFile", cert);
            Exists("Tls:KeyFile", key);
            try
            {
                using var loaded = X509Certificate2.CreateFromPemFile(cert, key);
                if (!loaded.HasPrivateKey)
                {
                    Fail("Tls:KeyFile", key, "it holds no private key for the certificate in --tls-cert");
                }
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                Fail("Tls:KeyFile", key,
                    $"the certificate and key did not load together ({e.Message.TrimEnd('.')}): give a PEM certificate and its unencrypted PEM private key");
            }
        }

        if (tls.CaFile is { } ca)
        {
            Exists("Tls:CaFile", ca);
            if (TrustedCertificates.Load(ca).Count == 0)
            {
                Fail("Tls:CaFile", ca, "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
        }
    }

    private static void Auth(ServerOptions o)
    {
        var auth = o.Auth;
        Keys("Auth:ApiKeys", auth.ApiKeys);
        Keys("Auth:AdminKeys", auth.AdminKeys);
        if (auth.ApiKeys.Keys.Intersect(auth.AdminKeys.Keys, StringComparer.Ordinal).Any())
        {
            FailSecret("Auth:AdminKeys", "a key is also listed in KvTier:Auth:ApiKeys", "list each key once: under AdminKeys when it may write the shared namespace");
        }

        var tenants = auth.Tenants;
        foreach (var (tenant, quota) in auth.Quotas)
        {
            if (tenant != Namespaces.Shared && !tenants.Contains(tenant, StringComparer.Ordinal))
            {
                Fail("Auth:Quotas", tenant, auth.Enabled
                    ? $"no API key maps to this tenant: give a quota to one of {string.Join(", ", tenants.Append(Namespaces.Shared))}"
                    : $"without API keys every call is tenant '{Namespaces.Default}': give quotas to '{Namespaces.Default}' or '{Namespaces.Shared}'");
            }

            if (!QuotaSize.TryParse(quota, long.MaxValue / 100, out _))
            {
                Fail("Auth:Quotas", $"{tenant}: {quota}", "give a size such as 2GiB or a share of the memory such as 25%");
            }
        }

        if (auth.DefaultQuota is { } fallback && !QuotaSize.TryParse(fallback, long.MaxValue / 100, out _))
        {
            Fail("Auth:DefaultQuota", fallback, "give a size such as 2GiB or a share of the memory such as 25%");
        }

        Reserved(o);
    }

    private static void Keys(string name, IReadOnlyDictionary<string, string> keys)
    {
        foreach (var (key, tenant) in keys)
        {
            if (key.StartsWith(ServerOptionsJson.Redacted, StringComparison.Ordinal))
            {
                FailSecret(name, $"the key of tenant '{tenant}' is a placeholder that 'kvtier config print' wrote",
                    "put the real key back, or leave the keys out of this file and mount them from a Secret as appsettings.json");
            }

            if (key.Length < MinKeyLength)
            {
                FailSecret(name, $"a key of {key.Length} characters (tenant '{tenant}') is too short", KeyFix);
            }

            if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                FailSecret(name, $"a key of tenant '{tenant}' contains spaces or control characters", KeyFix);
            }

            Tenant(name, tenant);
        }
    }

    private static void Tenant(string name, string tenant)
    {
        if (tenant.Length == 0 || tenant.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || Encoding.UTF8.GetByteCount(tenant) > StoreLayout.MaxTenantBytes)
        {
            Fail(name, tenant, $"a tenant is a name of 1 to {StoreLayout.MaxTenantBytes} bytes without spaces, e.g. team-a");
        }

        if (tenant == Namespaces.Shared)
        {
            Fail(name, tenant, $"'{Namespaces.Shared}' is the namespace every tenant reads: name the key's own tenant (admin keys write '{Namespaces.Shared}' with the {Namespaces.Header} header)");
        }
    }

    // The quotas must leave room for writes; percentages are of the window the store will keep in memory.
    private static void Reserved(ServerOptions o)
    {
        if (o.Auth.Quotas.Count == 0 && o.Auth.DefaultQuota is null)
        {
            return;
        }

        var window = StoreLayout.For(new StoreOptions { MemoryBytes = o.MemoryBytes, MaxBlockBytes = o.MaxBlockBytes }).WindowBytes;
        var reserved = o.QuotaBytes(window).Values.Sum();
        var limit = (long)(window * StoreOptions.MaxReservedFraction);
        if (reserved > limit)
        {
            Fail(o.Auth.DefaultQuota is null ? "Auth:Quotas" : "Auth:DefaultQuota", ByteSize.Format(reserved),
                $"the tenants' quotas add up to more than {StoreOptions.MaxReservedFraction:P0} of the {ByteSize.Format(window)} the store keeps in memory "
                + $"with --memory {o.Memory} ({ByteSize.Format(limit)}): lower the quotas or raise --memory");
        }
    }

    private static void Exists(string name, string path)
    {
        if (!File.Exists(path))
        {
            Fail(name, path, "the file does not exist: give the path of a PEM file");
        }
    }
}
