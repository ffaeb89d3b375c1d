using System.Text.Json;

namespace KvTier.Server.Tests;

/// <summary>Binding, validating and printing the <c>KvTier:Auth</c> and <c>KvTier:Tls</c> sections.</summary>
public sealed class AuthOptionsTests : IDisposable
{
    private const string KeyA = "a-key-of-twenty-chars";
    private const string KeyB = "b-key-of-twenty-chars";
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("kvtier-auth-options-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Binding_ReadsKeysTenantsAndQuotasFromTheFileAndOneVariablePerEntry()
    {
        var file = Write($$"""
            { "KvTier": { "Auth": { "ApiKeys": { "{{KeyA}}": "team-a" }, "AdminKeys": { "admin-key-0123456789": "ops" },
                                    "Quotas": { "team-a": "1GiB", "shared": "10%" }, "DefaultQuota": "100MiB" },
                          "Tls": { "CaFile": "/etc/ca.pem" } } }
            """);
        var environment = new Dictionary<string, string?>
        {
            [$"KVTIER__AUTH__APIKEYS__{KeyB}"] = "team-b",
            ["KVTIER__AUTH__DEFAULTQUOTA"] = "200MiB",
        };

        var options = ServerOptionsBinder.Bind(file, new Dictionary<string, string?> { ["Auth:DefaultQuota"] = "300MiB" }, environment, _directory);

        Assert.Equal(new Dictionary<string, string> { [KeyA] = "team-a", [KeyB] = "team-b" }, options.Auth.ApiKeys);
        Assert.Equal("ops", options.Auth.AdminKeys["admin-key-0123456789"]);
        Assert.Equal("10%", options.Auth.Quotas["shared"]);
        Assert.Equal("300MiB", options.Auth.DefaultQuota); // file < environment < flag
        Assert.Equal("/etc/ca.pem", options.Tls.CaFile);
        Assert.Equal(["ops", "team-a", "team-b"], options.Auth.Tenants);
    }

    [Fact]
    public void Binding_TheSecretTheDeploymentsMountAsAppSettings_TurnsAuthOn()
    {
        File.WriteAllText(Path.Combine(_directory, "appsettings.json"), """{"KvTier": {"Auth": {"ApiKeys": {"change-me-engine-key": "default"}}}}""");

        var options = ServerOptionsBinder.Bind(environment: NoEnvironment, baseDirectory: _directory);

        options.Validate();
        Assert.True(options.Auth.Enabled);
        Assert.Equal("default", options.Auth.ApiKeys["change-me-engine-key"]);
    }

    [Theory]
    [InlineData("""{ "KvTier": { "Auth": { "ApiKey": {} } } }""", "KvTier:Auth:ApiKey is not a setting: use one of ApiKeys, AdminKeys, Quotas, DefaultQuota")]
    [InlineData("""{ "KvTier": { "Tls": { "Cert": "x" } } }""", "KvTier:Tls:Cert is not a setting: use one of CertificateFile, KeyFile, CaFile")]
    [InlineData("""{ "KvTier": { "Auth": "on" } }""", "KvTier:Auth is a section, not a value")]
    [InlineData("""{ "KvTier": { "Auth": { "ApiKeys": "k" } } }""", "KvTier:Auth:ApiKeys is an object, not a value")]
    [InlineData("""{ "KvTier": { "Auth": { "ApiKeys": { "a:b-key-of-twenty-chars": "t" } } } }""", "keys cannot contain ':'")]
    [InlineData("""{ "Auth": { "ApiKeys": {} } }""", "put it under \"KvTier\" (as KvTier:Auth)")]
    public void Binding_AMisshapenSection_IsAnErrorSayingWhatFits(string json, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(Write(json), environment: NoEnvironment, baseDirectory: _directory));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AShortKey_NamesTheSettingAndTenantButNeverTheKey()
    {
        var options = new ServerOptions { Auth = new AuthOptions { ApiKeys = new Dictionary<string, string> { ["hunter2"] = "team-a" } } };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:Auth:ApiKeys: a key of 7 characters (tenant 'team-a') is too short", e.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("shared", "'shared' is the namespace every tenant reads")]
    [InlineData("two words", "without spaces")]
    public void Validate_ABadTenant_SaysWhy(string tenant, string expected)
    {
        var options = new ServerOptions { Auth = new AuthOptions { ApiKeys = new Dictionary<string, string> { [KeyA] = tenant } } };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:Auth:ApiKeys:", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AKeyListedAsBothApiAndAdminKey_IsRefused()
    {
        var options = new ServerOptions
        {
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "a" },
                AdminKeys = new Dictionary<string, string> { [KeyA] = "a" },
            },
        };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("list each key once", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("team-x", "1GiB", "no API key maps to this tenant")]
    [InlineData("team-a", "lots", "give a size such as 2GiB or a share of the memory such as 25%")]
    [InlineData("team-a", "150%", "give a size such as 2GiB")]
    [InlineData("team-a", "1000MiB", "lower the quotas or raise --memory")]
    public void Validate_ABadQuota_NamesTheSettingAndTheFix(string tenant, string quota, string expected)
    {
        var options = new ServerOptions
        {
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "team-a" },
                Quotas = new Dictionary<string, string> { [tenant] = quota },
            },
        };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:Auth:Quotas:", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StoreOptions_GetEachTenantsQuota_PercentagesOfTheWindow_AndTheDefaultForEveryOtherKeyTenant()
    {
        var options = new ServerOptions
        {
            Memory = "1GiB",
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "team-a", [KeyB] = "team-b" },
                Quotas = new Dictionary<string, string> { ["team-a"] = "20%", ["shared"] = "64MiB" },
                DefaultQuota = "128MiB",
            },
        };
        options.Validate();

        var store = options.ToStoreOptions();

        var window = Store.StoreLayout.For(store).WindowBytes;
        Assert.Equal((long)(window * 0.2), store.TenantQuotas["team-a"]);
        Assert.Equal(128L << 20, store.TenantQuotas["team-b"]);
        Assert.Equal(64L << 20, store.TenantQuotas["shared"]);
        Assert.Equal(3, store.TenantQuotas.Count);
    }

    [Fact]
    public void Json_ShowsTenantsQuotasAndTheKeyPath_ButNoKey()
    {
        var options = new ServerOptions
        {
            Tls = new TlsOptions { CertificateFile = "/etc/kvtier/tls.crt", KeyFile = "/etc/kvtier/tls.key" },
            Auth = new AuthOptions
            {
                ApiKeys = new Dictionary<string, string> { [KeyA] = "team-a", [KeyB] = "team-b" },
                AdminKeys = new Dictionary<string, string> { ["admin-key-0123456789"] = "ops" },
                Quotas = new Dictionary<string, string> { ["team-a"] = "1GiB" },
            },
        };

        var json = ServerOptionsJson.Write(options);
        var root = JsonDocument.Parse(json).RootElement.GetProperty("KvTier");

        Assert.DoesNotContain("key-of-twenty", json, StringComparison.Ordinal);
        Assert.DoesNotContain("admin-key", json, StringComparison.Ordinal);
        Assert.Equal(["team-a", "team-b"], root.GetProperty("Auth").GetProperty("ApiKeys").EnumerateObject().Select(p => p.Value.GetString()));
        Assert.All(root.GetProperty("Auth").GetProperty("ApiKeys").EnumerateObject(), p => Assert.StartsWith("***", p.Name, StringComparison.Ordinal));
        Assert.Equal("1GiB", root.GetProperty("Auth").GetProperty("Quotas").GetProperty("team-a").GetString());
        Assert.Equal("/etc/kvtier/tls.key", root.GetProperty("Tls").GetProperty("KeyFile").GetString());
    }

    private string Write(string json)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("n") + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
