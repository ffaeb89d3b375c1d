using System.Text.Json;

namespace KvTier.Cli.Tests;

public sealed class ConfigPrintTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kvtier-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ConfigPrint_ShowsFileThenEnvironmentThenFlags_WithCredentialsRedacted()
    {
        var file = Path.Combine(_directory, "kvtier.json");
        await File.WriteAllTextAsync(file,
            """{ "KvTier": { "Memory": "2GiB", "MaxBlock": "32MiB", "NodeId": "from-file", "Etcd": "http://root:hunter2@etcd:2379" } }""");
        var environment = new Dictionary<string, string?> { ["KVTIER__MAXBLOCK"] = "16MiB", ["KVTIER__NODEID"] = "from-env" };

        var result = await Kvtier.RunAsync(["config", "print", "--config", file, "--node-id", "from-flag"], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var settings = JsonDocument.Parse(result.StdOut).RootElement.GetProperty("KvTier");
        Assert.Equal("2GiB", settings.GetProperty("Memory").GetString());
        Assert.Equal("16MiB", settings.GetProperty("MaxBlock").GetString());
        Assert.Equal("from-flag", settings.GetProperty("NodeId").GetString());
        Assert.Equal("http://***@etcd:2379", settings.GetProperty("Etcd").GetString());
        Assert.DoesNotContain("hunter2", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigPrint_ABadSize_Exits2NamingTheSettingAndValue()
    {
        var result = await Kvtier.RunAsync("config", "print", "--memory", "lots");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("KvTier:Memory (--memory): 'lots'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithBadSettings_Exits2BeforeListening()
    {
        var result = await Kvtier.RunAsync("serve", "--listen", "127.0.0.1:0", "--max-block", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Contains("--max-block", result.StdErr, StringComparison.Ordinal);
    }
}
