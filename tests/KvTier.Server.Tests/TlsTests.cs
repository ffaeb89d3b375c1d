using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using KvTier.Client;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Tests;

/// <summary>A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.</summary>
internal sealed class SelfSigned : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kvtier-tls-");

    public SelfSigned(string subject = "CN=kvtier-test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificateFile = Path.Combine(_directory.FullName, "server.crt");
        KeyFile = Path.Combine(_directory.FullName, "server.key");
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(KeyFile, key.ExportPkcs8PrivateKeyPem());
        Certificate = X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    /// <summary>The certificate alone (no key): what a client trusts.</summary>
    public X509Certificate2 Certificate { get; }

    public void Dispose()
    {
        Certificate.Dispose();
        _directory.Delete(recursive: true);
    }
}

/// <summary>The gRPC endpoint over TLS, and the start-up report of what an exposed node lacks.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly SelfSigned _certificate = new();

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task A_client_that_trusts_the_self_signed_certificate_round_trips_a_block_over_https()
    {
        await using var server = await StartAsync(Options(tls: true));
        using var client = new KvTierClient(server.Address, new KvTierClientOptions { TrustedCertificates = [_certificate.Certificate] });
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(3 << 20);

        await client.PutAsync(key, payload);

        Assert.Equal("https", server.Address.Scheme);
        Assert.Equal(payload, await client.GetAsync(key));
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_is_refused()
    {
        await using var server = await StartAsync(Options(tls: true));
        using var untrusting = new KvTierClient(server.Address);
        using var cleartext = new KvTierClient(new UriBuilder(server.Address) { Scheme = "http" }.Uri);

        var untrusted = await Assert.ThrowsAsync<RpcException>(() => untrusting.StatsAsync());
        var plain = await Assert.ThrowsAsync<RpcException>(() => cleartext.StatsAsync());

        // gRPC reports a failed handshake as Internal, with the reason from the TLS stack.
        Assert.Contains("UntrustedRoot", untrusted.Status.Detail, StringComparison.Ordinal);
        Assert.True(plain.StatusCode == StatusCode.Unavailable, plain.ToString());
    }

    [Fact]
    public async Task A_node_listening_beyond_loopback_warns_about_each_missing_protection()
    {
        var exposed = await StartLoggedAsync(Options(tls: false) with { Listen = "0.0.0.0:0" });
        var protectedNode = await StartLoggedAsync(Options(tls: true) with { Listen = "0.0.0.0:0", Keys = true });
        var loopback = await StartLoggedAsync(Options(tls: false));

        Assert.Contains(exposed, e => e.EventId == 20 && e.Level == LogLevel.Warning && e.Message.Contains("KvTier:Auth:ApiKeys", StringComparison.Ordinal));
        Assert.Contains(exposed, e => e.EventId == 21 && e.Level == LogLevel.Warning && e.Message.Contains("--tls-cert", StringComparison.Ordinal));
        Assert.DoesNotContain(protectedNode, e => e.EventId is 20 or 21);
        Assert.Contains(protectedNode, e => e.EventId == 23);
        Assert.DoesNotContain(loopback, e => e.EventId is 20 or 21);
    }

    [Fact]
    public void Validation_names_a_missing_key_file_and_a_key_that_does_not_match()
    {
        var missing = Assert.Throws<ArgumentException>(() => Build(Options(tls: true) with { KeyFile = null }).Validate());
        using var other = new SelfSigned("CN=other");
        var mismatched = Assert.Throws<ArgumentException>(() => Build(Options(tls: true) with { KeyFile = other.KeyFile }).Validate());

        Assert.StartsWith("KvTier:Tls:CertificateFile (--tls-cert)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("--tls-key", missing.Message, StringComparison.Ordinal);
        Assert.StartsWith("KvTier:Tls:KeyFile (--tls-key)", mismatched.Message, StringComparison.Ordinal);
    }

    private async Task<List<(LogLevel Level, int EventId, string Message)>> StartLoggedAsync(Settings settings)
    {
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using (await KvTierServer.StartAsync(Build(settings), factory))
        {
        }

        return logs.Entries;
    }

    private Settings Options(bool tls) => new("127.0.0.1:0", tls ? _certificate.CertificateFile : null, tls ? _certificate.KeyFile : null, Keys: false);

    private static ServerOptions Build(Settings s) => new()
    {
        Listen = s.Listen,
        Memory = "64MiB",
        MaxBlock = "4MiB",
        Staging = "8MiB",
        NodeId = "tls-node",
        Tls = new TlsOptions { CertificateFile = s.CertificateFile, KeyFile = s.KeyFile },
        Auth = s.Keys ? new AuthOptions { ApiKeys = new Dictionary<string, string> { ["tls-test-key-0123456789"] = "t" } } : new AuthOptions(),
    };

    private sealed record Settings(string Listen, string? CertificateFile, string? KeyFile, bool Keys);

    private static Task<KvTierServer> StartAsync(Settings settings) => KvTierServer.StartAsync(Build(settings));
}
