using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace KvTier.Server.Tests;

/// <summary>/healthz, /readyz and grpc.health.v1 through a server's life, and the --metrics setting's checks.</summary>
public sealed class ReadinessTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Readyz_is_503_with_a_reason_until_the_node_serves_then_200_and_grpc_health_agrees_until_shutdown()
    {
        (HttpStatusCode Status, string Body)? healthzWhileStarting = null, readyzWhileStarting = null;
        var server = await KvTierServer.StartAsync(Options(), loggerFactory: null, async operations =>
        {
            // The operations endpoint listens before the store is allocated: alive, not ready.
            healthzWhileStarting = await GetAsync(operations, "/healthz");
            readyzWhileStarting = await GetAsync(operations, "/readyz");
        }, CancellationToken.None);
        try
        {
            Assert.Equal((HttpStatusCode.OK, "ok\n"), healthzWhileStarting);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyzWhileStarting!.Value.Status);
            Assert.Equal("starting: the block store is allocating its memory\n", readyzWhileStarting.Value.Body);

            Assert.Equal((HttpStatusCode.OK, "ready\n"), await GetAsync(server.MetricsAddress!, "/readyz"));
            using var channel = GrpcChannel.ForAddress(server.Address);
            var health = new Health.HealthClient(channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
                (await health.CheckAsync(new HealthCheckRequest { Service = "kvtier.v1.KvTier" })).Status);

            await server.StopAsync();

            Assert.Equal((HttpStatusCode.ServiceUnavailable, "shutting down\n"), await GetAsync(server.MetricsAddress!, "/readyz"));
            Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(server.MetricsAddress!, "/healthz"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_server_without_metrics_has_no_operations_endpoint_and_still_reports_grpc_health()
    {
        await using var server = await KvTierServer.StartAsync(Options(metrics: null));
        using var channel = GrpcChannel.ForAddress(server.Address);

        Assert.Null(server.MetricsAddress);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);
    }

    [Theory]
    [InlineData("nowhere")]
    [InlineData("9464")]
    [InlineData("metrics.example.com:9464")]
    [InlineData("127.0.0.1:99999")]
    public async Task A_metrics_value_that_is_not_a_bindable_address_is_refused_naming_the_flag(string value)
    {
        var bound = ServerOptionsBinder.Bind(flags: new Dictionary<string, string?> { ["Metrics"] = value }, environment: []);

        var e = Assert.Throws<ArgumentException>(bound.Validate);
        Assert.StartsWith($"KvTier:Metrics (--metrics): '{value}' is not valid", e.Message, StringComparison.Ordinal);
        var start = await Assert.ThrowsAsync<ArgumentException>(() => KvTierServer.StartAsync(Options(value)));
        Assert.Equal(e.Message, start.Message);
    }

    [Fact]
    public void Metrics_on_the_grpc_port_is_refused()
    {
        var options = new ServerOptions { Listen = "127.0.0.1:50051", Metrics = "127.0.0.1:50051" };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KvTier:Metrics (--metrics): '127.0.0.1:50051'", e.Message, StringComparison.Ordinal);
        Assert.Contains("--listen", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_metrics_address_in_use_fails_the_start_naming_the_flag()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var address = $"127.0.0.1:{((IPEndPoint)taken.LocalEndPoint!).Port}";

        var e = await Assert.ThrowsAsync<EndpointBindException>(() => KvTierServer.StartAsync(Options(address)));

        Assert.Equal("--metrics", e.Setting.Flag);
        Assert.StartsWith("KvTier:Metrics (--metrics): ", e.Message, StringComparison.Ordinal);
        Assert.Contains(address, e.Message, StringComparison.Ordinal);
    }

    private static ServerOptions Options(string? metrics = "127.0.0.1:0") =>
        new() { Listen = "127.0.0.1:0", Metrics = metrics, Memory = "32MiB", MaxBlock = "1MiB", Staging = "1MiB" };

    private async Task<(HttpStatusCode, string)> GetAsync(Uri operations, string path)
    {
        using var response = await _http.GetAsync(new Uri(operations, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
