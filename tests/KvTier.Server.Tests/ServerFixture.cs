using Grpc.Net.Client;
using KvTier.Client;
using KvTier.Core;
using Rpc = KvTier.Protos.V1;

namespace KvTier.Server.Tests;

/// <summary>
/// One real server on a free loopback port with a small real store, shared by every test in the "server" collection
/// (starting a store costs its preallocation; tests in one collection run one at a time, so each test's blocks stay
/// in memory for its own duration).
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const long MaxBlockBytes = 4 << 20;

    private GrpcChannel? _channel;

    public KvTierServer Server { get; private set; } = null!;

    /// <summary>The library client, for well-formed calls.</summary>
    public KvTierClient Client { get; private set; } = null!;

    /// <summary>The generated client, for requests the library client would never send.</summary>
    public Rpc.KvTier.KvTierClient Raw { get; private set; } = null!;

    public GrpcChannel Channel => _channel!;

    public async Task InitializeAsync()
    {
        Server = await KvTierServer.StartAsync(new ServerOptions
        {
            Listen = "127.0.0.1:0",
            Memory = "64MiB",
            MaxBlock = "4MiB",
            NodeId = "test-node",
            Staging = "16MiB",
        });
        Client = new KvTierClient(Server.Address);
        _channel = GrpcChannel.ForAddress(Server.Address);
        Raw = new Rpc.KvTier.KvTierClient(_channel);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        _channel?.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Puts and gets a fresh block: proves the server still serves after a bad request.</summary>
    public async Task AssertStillServesAsync()
    {
        var key = Blocks.RandomKey();
        var payload = Blocks.Random(4096);
        await Client.PutAsync(key, payload);
        Assert.Equal(payload, await Client.GetAsync(key));
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}

/// <summary>Random keys and payloads (fresh keys per test, so tests never see each other's blocks).</summary>
internal static class Blocks
{
    public static BlockKey RandomKey()
    {
        Span<byte> bytes = stackalloc byte[BlockKey.Size];
        System.Random.Shared.NextBytes(bytes);
        return new BlockKey(bytes);
    }

    public static byte[] Random(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
