using System.Text.Json;

namespace KvTier.Server.Tests;

public sealed class ServerOptionsTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("kvtier-options-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Defaults_AreTheDocumentedOnesAndValid()
    {
        var options = ServerOptionsBinder.Bind(environment: NoEnvironment, baseDirectory: _directory);

        options.Validate();
        Assert.Equal("127.0.0.1:50051", options.Listen);
        Assert.Equal(Environment.MachineName, options.NodeId);
        Assert.Equal("0", options.HashSeed);
        Assert.Equal(16, options.BlockTokens);
        Assert.Equal(1L << 30, options.MemoryBytes);
        Assert.Equal(64L << 20, options.MaxBlockBytes);
        Assert.Equal(2, options.Replicas);
        Assert.Equal("local", options.WriteAck);
        Assert.Equal("kvtier", options.Retention);
        Assert.Equal(Store.StoreRetention.KvTier, options.ToStoreOptions().Retention);
        Assert.Empty(options.UnavailableSettings());
    }

    [Fact]
    public void Binding_FlagsWinOverEnvironmentWhichWinsOverTheFileWhichWinsOverAppSettings()
    {
        File.WriteAllText(Path.Combine(_directory, "appsettings.json"),
            """{ "KvTier": { "Memory": "128MiB", "MaxBlock": "1MiB", "NodeId": "from-appsettings", "HashSeed": "a" } }""");
        var file = Write("""{ "KvTier": { "Memory": "256MiB", "MaxBlock": "2MiB", "NodeId": "from-file" } }""");
        var environment = new Dictionary<string, string?> { ["KVTIER__MEMORY"] = "512MiB", ["KVTIER__MAXBLOCK"] = "3MiB" };
        var flags = new Dictionary<string, string?> { ["Memory"] = "768MiB", ["Listen"] = null };

        var options = ServerOptionsBinder.Bind(file, flags, environment, _directory);

        Assert.Equal("768MiB", options.Memory);
        Assert.Equal("3MiB", options.MaxBlock);
        Assert.Equal("from-file", options.NodeId);
        Assert.Equal("a", options.HashSeed);
        Assert.Equal("127.0.0.1:50051", options.Listen);
    }

    [Fact]
    public void Binding_ReadsListsFromJsonArraysAndCommaSeparatedValues()
    {
        var file = Write("""{ "KvTier": { "Peers": [ "a:1", "b:2" ] } }""");
        var fromFile = ServerOptionsBinder.Bind(file, environment: NoEnvironment, baseDirectory: _directory);
        var fromEnvironment = ServerOptionsBinder.Bind(
            environment: new Dictionary<string, string?> { ["KVTIER__PEERS"] = "c:3, d:4" }, baseDirectory: _directory);

        Assert.Equal(["a:1", "b:2"], fromFile.Peers);
        Assert.Equal(["c:3", "d:4"], fromEnvironment.Peers);
    }

    [Fact]
    public void Binding_AnUnknownSetting_IsAnErrorNamingIt()
    {
        var file = Write("""{ "KvTier": { "Memroy": "1GiB" } }""");

        var e = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(file, environment: NoEnvironment, baseDirectory: _directory));

        Assert.Contains("KvTier:Memroy is not a setting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_ASettingOutsideTheSection_IsAnErrorSayingWhereItBelongs()
    {
        var file = Write("""{ "Memory": "1GiB" }""");

        var e = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(file, environment: NoEnvironment, baseDirectory: _directory));

        Assert.Contains("put it under \"KvTier\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_AMissingOrBrokenConfigFile_IsAnErrorNamingTheFile()
    {
        var missing = Path.Combine(_directory, "nope.json");
        var broken = Write("{ \"KvTier\": ");

        var e1 = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(missing, environment: NoEnvironment, baseDirectory: _directory));
        var e2 = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(broken, environment: NoEnvironment, baseDirectory: _directory));

        Assert.Contains(missing, e1.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(broken), e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_ANonNumericCount_IsAnErrorNamingTheSettingAndFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => ServerOptionsBinder.Bind(
            flags: new Dictionary<string, string?> { ["BlockTokens"] = "sixteen" }, environment: NoEnvironment, baseDirectory: _directory));

        Assert.Contains("KvTier:BlockTokens (--block-tokens): 'sixteen'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Memory", "lots", "KvTier:Memory (--memory): 'lots'")]
    [InlineData("MaxBlock", "0", "KvTier:MaxBlock (--max-block): '0'")]
    [InlineData("Listen", "example.com:80", "KvTier:Listen (--listen): 'example.com:80'")]
    [InlineData("Listen", "127.0.0.1", "KvTier:Listen (--listen): '127.0.0.1'")]
    [InlineData("BlockTokens", "0", "KvTier:BlockTokens (--block-tokens): '0'")]
    [InlineData("NodeId", "two words", "KvTier:NodeId (--node-id): 'two words'")]
    [InlineData("WriteAck", "most", "KvTier:WriteAck (--write-ack): 'most'")]
    [InlineData("Retention", "lru", "KvTier:Retention (--retention): 'lru'")]
    [InlineData("Accelerator", "tpu", "KvTier:Accelerator (--accelerator): 'tpu'")]
    [InlineData("Peers", "a:1,b", "KvTier:Peers (--peers): 'b'")]
    [InlineData("Etcd", "etcd:2379", "KvTier:Etcd (--etcd): 'etcd:2379'")]
    [InlineData("Replicas", "0", "KvTier:Replicas (--replicas): '0'")]
    [InlineData("Staging", "big", "KvTier:Staging (--staging): 'big'")]
    [InlineData("Staging", "1KiB", "KvTier:Staging (--staging): '1KiB'")]
    [InlineData("Metrics", "9464", "KvTier:Metrics (--metrics): '9464'")]
    [InlineData("SsdSize", "1GiB", "KvTier:SsdSize (--ssd-size): '1GiB'")]
    public void Validate_ABadValue_NamesTheSettingTheValueAndTheFix(string setting, string value, string expected)
    {
        var options = ServerOptionsBinder.Bind(
            flags: new Dictionary<string, string?> { [setting] = value }, environment: NoEnvironment, baseDirectory: _directory);

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(": ", e.Message[expected.Length..], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:50061", null, "--listen (127.0.0.1:50061)")]
    [InlineData("127.0.0.1:50051", "127.0.0.1:50061", "--metrics (127.0.0.1:50061)")]
    public void Validate_ADataPortSharedWithAnotherListener_IsRefusedNamingBoth(string listen, string? metrics, string other)
    {
        var options = new ServerOptions { Listen = listen, Metrics = metrics, DataListen = "127.0.0.1:50061" };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:DataListen (--data-listen): '127.0.0.1:50061' is not valid: give it another port than " + other, e.Message, StringComparison.Ordinal);
        options.DataListen = "127.0.0.1:0";
        options.Validate(); // port 0 picks a free port: never a clash
    }

    [Fact]
    public void Validate_MemoryTooSmallForTheMaxBlock_SaysWhatToRaise()
    {
        var options = new ServerOptions { Memory = "8MiB", MaxBlock = "64MiB" };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("--memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ABudgetBeyondWhatTheProcessMayUse_IsRefusedBeforeAllocatingSayingHowMuchFits()
    {
        var options = new ServerOptions { Memory = "4GiB", Staging = "256MiB" };

        var e = Assert.Throws<ArgumentException>(() => ServerOptionsValidator.Validate(options, processMemoryBytes: 2L << 30));

        Assert.StartsWith("KvTier:Memory (--memory): '4GiB' is not valid: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs 4.5GiB, more than the 2GiB this process may use", e.Message, StringComparison.Ordinal);
        Assert.Contains("at most 1.5GiB", e.Message, StringComparison.Ordinal); // 2GiB - staging - the runtime's headroom
    }

    [Fact]
    public void Validate_AnSsdSizeBeyondItsFilesystemsFreeSpace_IsRefusedWithoutCreatingTheDirectory()
    {
        var options = new ServerOptions { SsdDir = Path.Combine(_directory, "ssd", "tier"), SsdSize = "1048576GiB" }; // 1 PiB

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:SsdSize (--ssd-size): '1048576GiB' is not valid: the filesystem of --ssd-dir ", e.Message, StringComparison.Ordinal);
        Assert.Contains("free: lower --ssd-size", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "ssd")));
    }

    [Fact]
    public void Validate_AnSsdDirBelowAFile_IsRefusedNamingTheFile()
    {
        var file = Path.Combine(_directory, "not-a-dir");
        File.WriteAllText(file, "x");
        var options = new ServerOptions { SsdDir = Path.Combine(file, "ssd"), SsdSize = "1GiB" };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"KvTier:SsdDir (--ssd-dir): '{options.SsdDir}' is not valid: {file} is a file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ABudgetThatFitsWithStagingAndHeadroom_IsAccepted()
    {
        var options = new ServerOptions { Memory = "1536MiB", Staging = "256MiB" };

        ServerOptionsValidator.Validate(options, processMemoryBytes: 2L << 30); // exactly 2GiB with the 256MiB headroom
        Assert.Throws<ArgumentException>(() => ServerOptionsValidator.Validate(options, processMemoryBytes: (2L << 30) - 1));
    }

    [Theory]
    [InlineData("127.0.0.1:0")]
    [InlineData("localhost:0")]
    [InlineData("*:50051")]
    [InlineData("[::1]:50051")]
    public void Validate_AcceptsListenAddressesKestrelCanBind(string listen)
    {
        new ServerOptions { Listen = listen }.Validate();
    }

    [Fact]
    public void UnavailableSettings_NamesEveryGivenSettingOfAMissingFeature()
    {
        var options = new ServerOptions { Peers = ["a:1"], Etcd = "http://127.0.0.1:2379", Replicas = 3, Metrics = "127.0.0.1:9464", Accelerator = "cuda" };

        var given = options.UnavailableSettings();

        Assert.Equal(["Accelerator"], given.Select(g => g.Setting.Name));
        Assert.StartsWith("the CUDA transfer path", given[0].Feature, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_IsAConfigFileThatBindsBackToTheSameOptions_WithCredentialsRedacted()
    {
        var options = new ServerOptions { Memory = "2GiB", Peers = ["a:1"], BlockTokens = 32, Etcd = "http://user:secret@etcd:2379" };

        var json = ServerOptionsJson.Write(options);
        var back = ServerOptionsBinder.Bind(Write(json), environment: NoEnvironment, baseDirectory: _directory);

        Assert.DoesNotContain("secret", json, StringComparison.Ordinal);
        Assert.Equal("http://***@etcd:2379", JsonDocument.Parse(json).RootElement.GetProperty("KvTier").GetProperty("Etcd").GetString());
        Assert.Equal("2GiB", back.Memory);
        Assert.Equal(32, back.BlockTokens);
        Assert.Equal(["a:1"], back.Peers);
    }

    private string Write(string json)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("n") + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
