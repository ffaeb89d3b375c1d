using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace KvTier.Cli.Tests;

/// <summary>
/// A real <c>kvtier serve</c> with API keys (from <c>KVTIER__AUTH__APIKEYS__*</c> variables) serving TLS from a
/// self-signed certificate: the client verbs with <c>--api-key</c>, <c>KVTIER_API_KEY</c> and <c>--ca-file</c>.
/// </summary>
public sealed class AuthServeFixture : IAsyncLifetime
{
    public const string KeyA = "cli-key-of-tenant-a-012345";
    public const string KeyB = "cli-key-of-tenant-b-012345";

    private ServeProcess? _serve;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kvtier-cli-auth-").FullName;

    public string Url => _serve!.Url;

    public string CaFile => Path.Combine(Directory, "server.crt");

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(Directory, "server.key");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=kvtier-cli-test", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(CaFile, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        }

        var environment = new Dictionary<string, string?>
        {
            [$"KVTIER__AUTH__APIKEYS__{KeyA}"] = "tenant-a",
            [$"KVTIER__AUTH__APIKEYS__{KeyB}"] = "tenant-b",
        };
        _serve = await ServeProcess.StartAsync(
            ["--listen", "127.0.0.1:0", "--memory", "64MiB", "--max-block", "4MiB", "--staging", "16MiB", "--tls-cert", CaFile, "--tls-key", keyFile],
            environment);
    }

    public Task DisposeAsync()
    {
        _serve?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The client verbs against a server that needs keys and serves TLS; config print with secrets.</summary>
public sealed class AuthCliTests(AuthServeFixture serve) : IClassFixture<AuthServeFixture>
{
    private string Key { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task A_verb_without_a_key_exits_2_saying_how_to_give_one()
    {
        var result = await Kvtier.RunAsync("lookup", "--server", serve.Url, "--keys", Key, "--ca-file", serve.CaFile);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("refused the credentials", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--api-key", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_with_api_key_then_get_with_the_environment_variable_round_trips_and_another_tenant_sees_nothing()
    {
        var input = Path.Combine(serve.Directory, $"{Key}.in");
        var output = Path.Combine(serve.Directory, $"{Key}.out");
        var payload = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(input, payload);

        var put = await Kvtier.RunAsync("put", "--server", serve.Url, "--key", Key, "--in", input, "--api-key", AuthServeFixture.KeyA, "--ca-file", serve.CaFile);
        var get = await Kvtier.RunAsync(["get", "--server", serve.Url, "--key", Key, "--out", output],
            new Dictionary<string, string?> { ["KVTIER_API_KEY"] = AuthServeFixture.KeyA, ["KVTIER_CA_FILE"] = serve.CaFile });
        var other = await Kvtier.RunAsync(["lookup", "--server", serve.Url, "--keys", Key, "--ca-file", serve.CaFile],
            new Dictionary<string, string?> { ["KVTIER_API_KEY"] = AuthServeFixture.KeyB });

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(payload, await File.ReadAllBytesAsync(output));
        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Equal("0", other.StdOut.Trim());
    }

    [Fact]
    public async Task A_verb_using_plain_http_against_a_tls_node_exits_1_suggesting_https()
    {
        var authority = new Uri(serve.Url).Authority;

        var result = await Kvtier.RunAsync("stats", "--server", $"http://{authority}", "--api-key", AuthServeFixture.KeyA);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"use https://{authority}.", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verb_that_does_not_trust_the_servers_certificate_exits_1_naming_ca_file()
    {
        var result = await Kvtier.RunAsync("stats", "--server", serve.Url, "--api-key", AuthServeFixture.KeyA);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("could not verify", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--ca-file", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_print_shows_tenants_and_quotas_file_then_environment_then_flag_but_never_a_key()
    {
        var file = Path.Combine(serve.Directory, "auth.json");
        await File.WriteAllTextAsync(file,
            """{ "KvTier": { "Auth": { "ApiKeys": { "file-key-0123456789abcdef": "team-a" }, "Quotas": { "team-a": "64MiB" }, "DefaultQuota": "10MiB" } } }""");
        var environment = new Dictionary<string, string?>
        {
            ["KVTIER__AUTH__ADMINKEYS__env-admin-key-0123456789"] = "ops",
            ["KVTIER__AUTH__DEFAULTQUOTA"] = "20MiB",
            ["KVTIER__CLUSTERSECRET"] = "the-cluster-secret",
        };

        var fromEnvironment = await Kvtier.RunAsync(["config", "print", "--config", file], environment);
        var fromFlag = await Kvtier.RunAsync(["config", "print", "--config", file, "--default-quota", "30MiB", "--tls-ca", serve.CaFile,
            "--tls-cert", serve.CaFile, "--tls-key", Path.Combine(serve.Directory, "server.key")], environment);

        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.True(fromFlag.ExitCode == 0, fromFlag.ToString());
        var auth = JsonDocument.Parse(fromEnvironment.StdOut).RootElement.GetProperty("KvTier").GetProperty("Auth");
        Assert.Equal(["team-a"], auth.GetProperty("ApiKeys").EnumerateObject().Select(p => p.Value.GetString()));
        Assert.Equal(["ops"], auth.GetProperty("AdminKeys").EnumerateObject().Select(p => p.Value.GetString()));
        Assert.Equal("64MiB", auth.GetProperty("Quotas").GetProperty("team-a").GetString());
        Assert.Equal("20MiB", auth.GetProperty("DefaultQuota").GetString());
        var flagged = JsonDocument.Parse(fromFlag.StdOut).RootElement.GetProperty("KvTier");
        Assert.Equal("30MiB", flagged.GetProperty("Auth").GetProperty("DefaultQuota").GetString());
        Assert.Equal(serve.CaFile, flagged.GetProperty("Tls").GetProperty("CaFile").GetString());
        foreach (var output in new[] { fromEnvironment.StdOut, fromFlag.StdOut })
        {
            Assert.DoesNotContain("file-key", output, StringComparison.Ordinal);
            Assert.DoesNotContain("env-admin-key", output, StringComparison.Ordinal);
            Assert.DoesNotContain("the-cluster-secret", output, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", output, StringComparison.Ordinal);
        }
    }
}
