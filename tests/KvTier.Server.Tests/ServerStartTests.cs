using Grpc.Core;
using KvTier.Client;
using Microsoft.Extensions.Logging;

namespace KvTier.Server.Tests;

/// <summary>Starting and stopping servers of their own (not the shared fixture).</summary>
public sealed class ServerStartTests
{
    [Fact]
    public async Task StartAsync_WithBadOptions_ThrowsNamingTheSetting()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => KvTierServer.StartAsync(new ServerOptions { Listen = "nowhere" }));

        Assert.StartsWith("KvTier:Listen (--listen): 'nowhere'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_WithMetrics_ServesWithoutAPlaceholderWarning()
    {
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        var options = new ServerOptions { Listen = "127.0.0.1:0", Memory = "32MiB", MaxBlock = "1MiB", Staging = "1MiB", Metrics = "127.0.0.1:0" };

        await using var server = await KvTierServer.StartAsync(options, loggerFactory);
        using var client = new KvTierClient(server.Address);
        var key = Blocks.RandomKey();
        await client.PutAsync(key, Blocks.Random(100));

        Assert.DoesNotContain(logs.Entries, e => e.Level == LogLevel.Warning && e.EventId == 2);
        Assert.Contains(logs.Entries, e => e.EventId == 5 && e.Message.Contains(server.MetricsAddress!.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
        Assert.NotNull(await client.GetAsync(key));
    }

    [Fact]
    public async Task DisposeAsync_StopsServing()
    {
        var server = await KvTierServer.StartAsync(new ServerOptions { Listen = "127.0.0.1:0", Memory = "32MiB", MaxBlock = "1MiB" });
        using var client = new KvTierClient(server.Address);
        await client.StatsAsync();

        await server.DisposeAsync();

        // A new connection: a call racing the old connection's shutdown may be reset mid-flight (Internal) instead.
        using var after = new KvTierClient(server.Address);
        var e = await Assert.ThrowsAsync<RpcException>(() => after.StatsAsync());
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.True(server.WaitForShutdownAsync().IsCompleted);
    }

}
