using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace KvTier.Server.Tests;

/// <summary>Health, reflection and the bound address.</summary>
[Collection(ServerCollection.Name)]
public sealed class HostServicesTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("")]
    [InlineData("kvtier.v1.KvTier")]
    public async Task Health_ReportsServing(string service)
    {
        var health = new Health.HealthClient(fixture.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Reflection_ListsTheKvTierService()
    {
        var reflection = new ServerReflection.ServerReflectionClient(fixture.Channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("kvtier.v1.KvTier", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public void Address_IsTheLoopbackWithTheBoundPort()
    {
        Assert.Equal("127.0.0.1", fixture.Server.Address.Host);
        Assert.NotEqual(0, fixture.Server.Address.Port);
    }
}
