using System.Net;
using System.Net.Sockets;
using KvTier.Cluster.DataPlane;
using KvTier.Core;

namespace KvTier.Cluster.Tests;

public sealed class HandshakeTests
{
    [Fact]
    public async Task Handshake_succeeds_with_matching_settings()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        await client.ConnectAsync().Guard();

        Assert.Equal(1, client.GetStats().ConnectionsOpened);
        Assert.Equal(0, client.GetStats().HandshakesRefused);
        Assert.Equal(0, server.GetStats().HandshakesRefused);
    }

    [Fact]
    public async Task Handshake_succeeds_when_both_sides_prove_the_same_secret()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store, TestBlocks.ServerOptions(secret: "s3cret"));
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions(secret: "s3cret"));

        await client.ConnectAsync().Guard();
        var present = await client.ExistsAsync(TestBlocks.Tenant, [TestBlocks.Key(1)]).Guard();

        Assert.Equal([false], present);
        Assert.Equal(0, server.GetStats().HandshakesRefused);
    }

    [Fact]
    public async Task Different_cluster_name_is_refused_naming_both_names_and_the_flag()
    {
        var options = TestBlocks.ClientOptions();
        options.ClusterName = "other";

        var (e, server) = await RefusedAsync(TestBlocks.ServerOptions(), options);

        Assert.Equal(PeerRefusal.ClusterMismatch, e.Refusal);
        Assert.Contains("cluster name 'other'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'kvtier'", e.Message, StringComparison.Ordinal);
        Assert.Contains("--cluster", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.HandshakesRefused);
    }

    [Fact]
    public async Task Different_hash_seed_fingerprint_is_refused_naming_both_fingerprints_and_the_flag()
    {
        var options = TestBlocks.ClientOptions();
        options.SeedFingerprint = BlockHasher.SeedFingerprintOf("42");

        var (e, server) = await RefusedAsync(TestBlocks.ServerOptions(), options);

        Assert.Equal(PeerRefusal.SeedMismatch, e.Refusal);
        Assert.Contains($"hash seed fingerprint {options.SeedFingerprint}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"differs from this cluster's {TestBlocks.Seed}", e.Message, StringComparison.Ordinal);
        Assert.Contains("--hash-seed", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.HandshakesRefused);
    }

    [Fact]
    public async Task Client_without_the_secret_the_server_requires_is_refused()
    {
        var (e, server) = await RefusedAsync(TestBlocks.ServerOptions(secret: "s3cret"), TestBlocks.ClientOptions());

        Assert.Equal(PeerRefusal.SecretMissing, e.Refusal);
        Assert.Contains("sent no cluster secret", e.Message, StringComparison.Ordinal);
        Assert.Contains(PeerHandshake.SecretSetting, e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.HandshakesRefused);
    }

    [Fact]
    public async Task Client_with_a_secret_the_server_lacks_is_refused()
    {
        var (e, server) = await RefusedAsync(TestBlocks.ServerOptions(), TestBlocks.ClientOptions(secret: "s3cret"));

        Assert.Equal(PeerRefusal.SecretUnexpected, e.Refusal);
        Assert.Contains("uses a cluster secret, but this node has none", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.HandshakesRefused);
    }

    [Fact]
    public async Task Wrong_secret_is_refused_by_the_hmac_check()
    {
        var (e, server) = await RefusedAsync(TestBlocks.ServerOptions(secret: "s3cret"), TestBlocks.ClientOptions(secret: "guess"));

        Assert.Equal(PeerRefusal.SecretMismatch, e.Refusal);
        Assert.Contains("failed the cluster-secret check", e.Message, StringComparison.Ordinal);
        Assert.Contains(PeerHandshake.SecretSetting, e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.HandshakesRefused);
    }

    [Fact]
    public async Task Other_protocol_version_is_refused_naming_both_versions()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Endpoint);
        await using var connection = new PeerConnection(socket, new PeerDataCounters(), 64 << 10);
        var hello = new PeerHello(2, false, new byte[PeerProtocol.NonceBytes], "kvtier", TestBlocks.Seed, "future");
        hello.WriteTo(connection.StartFrame(FrameType.Hello, hello.Size, 0));
        connection.CommitFrame(hello.Size);
        await connection.FlushAsync(TimeSpan.FromSeconds(10));

        var header = await connection.ReadHeaderAsync(TimeSpan.FromSeconds(10)).AsTask().Guard();
        var (code, text) = await connection.ReadErrorAsync(header!.Value, TimeSpan.FromSeconds(10));

        Assert.Equal(FrameType.Error, header.Value.Type);
        Assert.Equal(PeerRefusal.VersionMismatch, code);
        Assert.Contains("version 2 differs from this node's 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_client_surfaces_the_refusal_from_batch_calls_too()
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store, TestBlocks.ServerOptions(secret: "s3cret"));
        await using var client = new PeerDataClient(server.Endpoint, TestBlocks.ClientOptions());

        var result = await client.GetBatchAsync(TestBlocks.Tenant, [TestBlocks.Key(1)], (_, _, _) => ValueTask.CompletedTask).Guard();

        Assert.Equal([BlockStatus.Timeout], result.Statuses);
        var refusal = Assert.IsType<PeerHandshakeException>(result.Failure);
        Assert.Equal(PeerRefusal.SecretMissing, refusal.Refusal);
        await Assert.ThrowsAsync<PeerHandshakeException>(() => client.ExistsAsync(TestBlocks.Tenant, [TestBlocks.Key(1)])).Guard();
    }

    private static async Task<(PeerHandshakeException Error, PeerDataStats Server)> RefusedAsync(
        PeerDataOptions serverOptions, PeerDataClientOptions clientOptions)
    {
        using var store = TestBlocks.Store();
        await using var server = TestBlocks.Server(store, serverOptions);
        await using var client = new PeerDataClient(server.Endpoint, clientOptions);

        var e = await Assert.ThrowsAsync<PeerHandshakeException>(() => client.ConnectAsync()).Guard();

        Assert.Equal(1, client.GetStats().HandshakesRefused);
        return (e, server.GetStats());
    }
}
